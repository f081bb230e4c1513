"""Per-device download cursors: what a gateway already holds from each device.

A cursor is advanced only after the caller confirmed that the records it covers are
durably stored (``SessionBatch.commit()``), so a crash between download and storage
re-downloads instead of losing records. Glucose keeps the last sequence number and the
meter's record count (to spot a reset); blood-pressure cuffs that resend everything keep
a bounded list of record fingerprints for deduplication.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

#: How many BP record fingerprints to remember per device.
SEEN_LIMIT = 500


@dataclass(frozen=True, slots=True)
class DeviceCursor:
    last_sequence: int | None = None
    record_count: int | None = None
    seen: tuple[str, ...] = field(default=())

    def with_seen(self, keys: list[str]) -> DeviceCursor:
        merged = list(dict.fromkeys([*self.seen, *keys]))[-SEEN_LIMIT:]
        return DeviceCursor(self.last_sequence, self.record_count, tuple(merged))

    @classmethod
    def from_json(cls, text: str) -> DeviceCursor:
        data = json.loads(text)
        return cls(data.get("last_sequence"), data.get("record_count"), tuple(data.get("seen", ())))

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))


class RecordCursorStore(Protocol):
    def load(self, device_key: str) -> DeviceCursor: ...

    def save(self, device_key: str, cursor: DeviceCursor) -> None: ...


class MemoryCursorStore:
    def __init__(self) -> None:
        self.cursors: dict[str, DeviceCursor] = {}

    def load(self, device_key: str) -> DeviceCursor:
        return self.cursors.get(device_key, DeviceCursor())

    def save(self, device_key: str, cursor: DeviceCursor) -> None:
        self.cursors[device_key] = cursor


class JsonFileCursorStore:
    """All cursors in one JSON file, replaced atomically (write, fsync, rename)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return {k: json.dumps(v) for k, v in data.items()}

    def load(self, device_key: str) -> DeviceCursor:
        text = self._read().get(device_key)
        return DeviceCursor() if text is None else DeviceCursor.from_json(text)

    def save(self, device_key: str, cursor: DeviceCursor) -> None:
        with self._lock:
            data = {k: json.loads(v) for k, v in self._read().items()}
            data[device_key] = json.loads(cursor.to_json())
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(self.path.suffix + ".tmp")
            with tmp.open("w", encoding="utf-8") as f:
                json.dump(data, f, indent=1, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)


class SqliteCursorStore:
    """Cursors in a SQLite table (may share the gateway's database file)."""

    def __init__(self, path: Path | str) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        # 256 KiB page cache, not the default 2 MiB: the Pi gateway must stay small (RSS budget).
        self._db.execute("PRAGMA cache_size=-256")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS ble_cursor (device TEXT PRIMARY KEY, cursor TEXT NOT NULL)"
        )

    def load(self, device_key: str) -> DeviceCursor:
        row = self._db.execute(
            "SELECT cursor FROM ble_cursor WHERE device = ?", (device_key,)
        ).fetchone()
        return DeviceCursor() if row is None else DeviceCursor.from_json(row[0])

    def save(self, device_key: str, cursor: DeviceCursor) -> None:
        self._db.execute(
            "INSERT INTO ble_cursor (device, cursor) VALUES (?, ?) "
            "ON CONFLICT(device) DO UPDATE SET cursor = excluded.cursor",
            (device_key, cursor.to_json()),
        )

    def close(self) -> None:
        self._db.close()
