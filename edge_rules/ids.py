"""Deterministic ULIDs for alerts and alert events.

The engine may not read a clock or a random source (same inputs → same outputs, so a
replay after a crash produces the very same ids and the cloud's idempotent writes keep one
copy). A ULID's 48-bit time part comes from ``at``; its 80 "random" bits from a hash of
``key``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from vitals.ids import encode_ulid


def derived_ulid(at: datetime, key: str) -> str:
    ms = max(0, int(at.timestamp() * 1000)) & ((1 << 48) - 1)
    tail = hashlib.sha256(key.encode()).digest()[:10]
    return encode_ulid(ms, int.from_bytes(tail, "big"))
