"""Where a reading's time goes, for ``bench.ingest``: the fleet's per-reading stamps
(``firmware_sim.fleet.ReadingTiming``) joined by msg_id with the workers' write traces
(``--trace-writes``, ``cloud_api.ingest.trace``). Every process runs on this host, so their
``time.time()`` stamps compare directly.

A reading's durable write is the first flush that carried its msg_id and returned at or
after the publish of the batch holding it (a replayed reading was written once before: its
second publish is matched with the flush that absorbed it).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench._stats import percentile
from cloud_api.ingest.trace import read_trace
from firmware_sim.fleet import ReadingTiming

STAGES = (
    "capture → outbox commit",
    "outbox → leased by drainer",
    "leased → MQTT publish",
    "publish → PUBACK at gateway",
    "publish → worker handles it",
    "handled → flush starts",
    "flush → durable write",
    "PUBLISH → DURABLE WRITE",
    "durable write → e2e acks out",
    "durable write → ack at gateway",
    "capture → ack at gateway",
)
PUBLISH_TO_WRITE = STAGES.index("PUBLISH → DURABLE WRITE")
CAPTURE_TO_ACK = STAGES.index("capture → ack at gateway")


@dataclass(frozen=True, slots=True)
class Written:
    written: float  # the flush's durable write returned
    started: float  # the flush began
    received: float  # the worker handled the message that carried the reading
    acked: float  # the flush's e2e acks were out (NaN: cut short by the worker's shutdown)


@dataclass(frozen=True, slots=True)
class Stages:
    first: list[list[float]]  # per reading (first delivery): ms per stage, STAGES order
    replay: list[list[float]]  # the replayed duplicates
    unmatched: int  # readings with no durable write found after their publish (must be 0)
    flushes: int
    messages: int

    def column(self, stage: int, replay: bool | None = None) -> list[float]:
        rows = (self.first + self.replay if replay is None
                else self.replay if replay else self.first)
        return [r[stage] for r in rows]


def load(timings: Sequence[ReadingTiming], traces: Sequence[Path]) -> Stages:
    writes: dict[str, list[Written]] = {}
    flushes = messages = 0
    for path in traces:
        for flush in read_trace(path):
            flushes += 1
            for received, ids in flush.messages:
                messages += 1
                for msg_id in ids:
                    writes.setdefault(msg_id, []).append(
                        Written(flush.written, flush.started, received,
                                float("nan") if flush.acked is None else flush.acked))
    for found in writes.values():
        found.sort(key=lambda w: w.written)
    first: list[list[float]] = []
    replay: list[list[float]] = []
    unmatched = 0
    for t in timings:
        found = writes.get(t.msg_id, [])
        i = bisect.bisect_left([w.written for w in found], t.published)
        if i == len(found):
            unmatched += 1
            continue
        w = found[i]
        stamps = [t.put - t.captured, t.leased - t.put, t.published - t.leased,
                  t.puback - t.published, w.received - t.published, w.started - w.received,
                  w.written - w.started, w.written - t.published, w.acked - w.written,
                  t.acked - w.written, t.acked - t.captured]
        (replay if t.replay else first).append([1000.0 * s for s in stamps])
    return Stages(first, replay, unmatched, flushes, messages)


def table(stages: Stages) -> str:
    lines = [f"{'stage (ms, all readings)':<32} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8}"]
    for i, name in enumerate(STAGES):
        v = stages.column(i)
        lines.append(f"{name:<32} {percentile(v, .5):8.1f} {percentile(v, .9):8.1f} "
                     f"{percentile(v, .99):8.1f} {percentile(v, 1.0):8.1f}")
    for label, replay in (("first deliveries", False), ("replayed duplicates", True)):
        v = stages.column(PUBLISH_TO_WRITE, replay)
        lines.append(f"publish → durable write, {label} ({len(v)}): p50 "
                     f"{percentile(v, .5):.1f}, p99 {percentile(v, .99):.1f}")
    lines.append(f"{stages.flushes} flushes, {stages.messages} messages, "
                 f"{stages.unmatched} readings without a durable write after their publish")
    return "\n".join(lines)
