"""Which paired device belongs to which patient: a small JSON file the gateway config
points at (written by ``homerpm gateway pair``, read when the gateway starts).

Only the pseudonymous patient id is stored, never a name.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from vitals.readings import ReadingKind


@dataclass(frozen=True, slots=True)
class Pairing:
    address: str
    patient: str
    kind: ReadingKind
    name: str | None = None
    bonded: bool = False
    paired_at: str = ""


def default_store_path() -> Path:
    """Where ``homerpm gateway pair`` records pairings unless told otherwise."""
    return Path("/var/lib/homerpm/pairings.json")


class PairingStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Pairing]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        out = {}
        for address, entry in data.get("devices", {}).items():
            entry = {**entry, "kind": ReadingKind(entry["kind"])}
            out[address] = Pairing(**entry)
        return out

    def put(self, pairing: Pairing) -> Pairing:
        if not pairing.paired_at:
            stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            pairing = Pairing(**{**asdict(pairing), "paired_at": stamp})
        devices = {a: asdict(p) for a, p in self.load().items()}
        devices[pairing.address.upper()] = {**asdict(pairing), "address": pairing.address.upper()}
        self._write({"version": 1, "devices": devices})
        return pairing

    def remove(self, address: str) -> bool:
        devices = {a: asdict(p) for a, p in self.load().items()}
        found = devices.pop(address.upper(), None) is not None
        self._write({"version": 1, "devices": devices})
        return found

    def _write(self, document: dict[str, object]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            json.dump(document, f, indent=1, sort_keys=True, default=str)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
