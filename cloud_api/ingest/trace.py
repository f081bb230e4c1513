"""``--trace-writes FILE``: when each message was received, written durably and acked.

One JSON line per flush, appended::

    {"worker": "ingest-0", "started": 1764128000.123, "written": 1764128000.161,
     "acked": 1764128000.163, "messages": [[1764127999.951, ["01J…", …]], …]}

``started``: the flush began (its batch window closed); ``written``: the durable write
returned (time series and archive transaction committed — what makes an ack allowed);
``acked``: the e2e acks were published and the messages PUBACKed (``null`` when that was cut
short — the worker stopping, the connection dropping — after the write); per message its
receive time and the msg_ids it carried (its ack ids: stored, duplicates and dead letters
alike). Times are ``time.time()`` so they compare with other processes on the same host:
``bench.ingest`` joins them with the fleet's publish times to report publish → durable
write per reading.

Off by default. The line is written from the event loop into a buffered file (≈ 30 bytes
a reading), flushed when the buffer fills and at exit.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO


class WriteTrace:
    def __init__(self, path: str | Path, worker_id: str) -> None:
        self.worker_id = worker_id
        # Open for the worker's lifetime; close() at shutdown.
        self._file: IO[str] = Path(path).open(  # noqa: SIM115
            "a", encoding="utf-8", buffering=1 << 16)

    def record(self, messages: Sequence[tuple[float, Sequence[str]]], started: float,
               written: float, acked: float | None) -> None:
        self._file.write(json.dumps({
            "worker": self.worker_id, "started": started, "written": written, "acked": acked,
            "messages": [[received, list(ids)] for received, ids in messages],
        }, separators=(",", ":")) + "\n")

    def close(self) -> None:
        self._file.close()


@dataclass(frozen=True, slots=True)
class TracedFlush:
    worker: str
    started: float
    written: float
    acked: float | None  # None: the acks were cut short (the worker stopped, the link dropped)
    messages: list[tuple[float, list[str]]]  # (received, msg_ids) per message


def read_trace(path: str | Path) -> list[TracedFlush]:
    """Every flush recorded in ``path`` (an absent file holds none)."""
    file = Path(path)
    if not file.exists():
        return []
    flushes = []
    for line in file.read_text(encoding="utf-8").splitlines():
        if line:
            d = json.loads(line)
            flushes.append(TracedFlush(d["worker"], d["started"], d["written"], d["acked"],
                                       [(float(r), list(ids)) for r, ids in d["messages"]]))
    return flushes
