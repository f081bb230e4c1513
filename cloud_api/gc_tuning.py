"""Garbage-collector settings for the cloud's long-running processes (worker, API).

CPython's default generation-0 threshold (700) runs a young collection every 700 container
allocations and a full one every ~77 000. An ingest worker allocates ~100 containers per
reading and holds a whole batch while it writes, an API process ~50 per row of an inbox
page, so each full collection walks every live object — start-up objects included (modules,
schemas, ORM metadata): 18 % of a draining worker's CPU, tens of ms added to whichever
request triggered it (docs/performance.md, "Session 3"). Their objects are acyclic and freed
by reference counting; the collector only has to catch the rare cycle, so it may run far
less often.

Only for a process's own entry point: it changes process-wide state (and ``gc.freeze``
keeps everything alive so far for good), so a library call or a test must not use it.
"""

from __future__ import annotations

import gc

GC_THRESHOLDS = (50_000, 20, 10)


def tune_gc() -> None:
    """Move start-up objects out of the collector's sight and collect young objects every
    50 000 allocations instead of 700."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
