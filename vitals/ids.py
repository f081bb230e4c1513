"""Message identifiers: ULIDs minted once, when a reading is captured.

A ULID sorts by creation time and carries 80 random bits, so gateways mint ids
without coordination and every retry of a reading carries the same id.

Encoded here (26 Crockford base32 characters: 48-bit Unix milliseconds, 80 random bits,
monotonic within one millisecond like python-ulid's default generator) rather than with
python-ulid: importing that package reads its own distribution metadata
(``importlib.metadata`` + ``email`` + ``zipfile``, ≈ 1 MB of RSS on the gateway). The
tests check the ids against python-ulid's parser.
"""

from __future__ import annotations

import os
import re
import threading
import time
from datetime import datetime

_ULID_RE = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$")
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_MAX = (1 << 80) - 1

_lock = threading.Lock()
_last_ms = -1
_last_random = 0


def encode_ulid(ms: int, random: int) -> str:
    """The canonical string of the ULID with timestamp ``ms`` and 80-bit ``random``."""
    value = ((ms & ((1 << 48) - 1)) << 80) | (random & _RANDOM_MAX)
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def new_msg_id(at: datetime | None = None) -> str:
    """Mint a new ULID string (optionally with the timestamp part set to ``at``)."""
    global _last_ms, _last_random
    ms = int(at.timestamp() * 1000) if at is not None else time.time_ns() // 1_000_000
    with _lock:
        if ms == _last_ms and _last_random < _RANDOM_MAX:
            _last_random += 1  # same millisecond: still sorts after the previous id
        else:
            _last_random = int.from_bytes(os.urandom(10), "big")
        _last_ms = ms
        return encode_ulid(ms, _last_random)


def is_msg_id(value: str) -> bool:
    """True when ``value`` is a canonical (upper-case Crockford base32) ULID."""
    return bool(_ULID_RE.match(value))
