"""Message identifiers: ULIDs minted once, when a reading is captured.

A ULID sorts by creation time and carries 80 random bits, so gateways mint ids
without coordination and every retry of a reading carries the same id.
"""

from __future__ import annotations

import re
from datetime import datetime

from ulid import ULID

_ULID_RE = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$")


def new_msg_id(at: datetime | None = None) -> str:
    """Mint a new ULID string (optionally with the timestamp part set to ``at``)."""
    return str(ULID.from_datetime(at) if at is not None else ULID())


def is_msg_id(value: str) -> bool:
    """True when ``value`` is a canonical (upper-case Crockford base32) ULID."""
    return bool(_ULID_RE.match(value))
