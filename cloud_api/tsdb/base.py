"""The time-series seam: points, rows, results, errors and the ``TimeSeriesStore`` protocol.

Two implementations honour the same contract (``tests/cloud_api/tsdb/test_tsdb_contract.py``):
:class:`~cloud_api.tsdb.sqlite_store.SqliteStore` (embedded default) and
:class:`~cloud_api.tsdb.influx_v1.InfluxV1Store` (InfluxDB 1.x/2.x/3.x via the v1 HTTP API).

Semantics borrowed from InfluxDB so both backends agree:
- a series is (measurement, tag set); a point is (series, time_ms);
- writing a point that already exists unions its fields, last write wins per field, so a
  redelivered reading is harmless as long as its timestamp is the measurement time;
- a field keeps the type it was first written with; a point that disagrees is rejected.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, Protocol, runtime_checkable

FieldValue = float | int | bool | str
FieldType = Literal["float", "integer", "boolean", "string"]
Aggregate = Literal["mean", "min", "max", "sum", "count"]
AGGREGATES: tuple[Aggregate, ...] = ("mean", "min", "max", "sum", "count")

# Names (measurements, tag keys, field keys) are chosen by our code, never by users, so keep them
# boring: that makes quoting trivial everywhere and keeps clear of InfluxDB's reserved `_…`/`time`.
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_RESERVED = frozenset({"time"})
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_TAG_VALUE_LEN = 256
_MAX_STRING = 64 * 1024  # a string field's length limit
# InfluxDB stores int64 nanoseconds; past this many ms InfluxQL overflows (or silently wraps).
MAX_TIME_MS = 9_223_372_036_854


class StoreError(Exception):
    """Base of every error a store raises."""


class StoreConfigError(StoreError):
    """Misconfiguration (bad credentials, missing database/retention policy, malformed query).

    Retrying cannot help: fail loudly and let an operator fix it.
    """


class StoreUnavailable(StoreError):
    """The store is down, overloaded or timed out. Retryable; nothing was lost by trying."""


# Names that passed check_name. Our schema uses a few dozen, checked on every point: a set
# look-up instead of a regex match per name per point (bounded for externally supplied names).
_GOOD_NAMES: set[str] = set()
_GOOD_NAMES_MAX = 4096
_BAD_TAG_CHAR = re.compile(r"[\x00-\x1f\x7f\\]")
# Tag sets (as given, in order) that passed the value checks → their sorted, read-only form.
# Series keys are low-cardinality by design (tenant, patient, device); bounded all the same.
_GOOD_TAGS: dict[tuple[tuple[str, str], ...], MappingProxyType[str, str]] = {}
_GOOD_TAGS_MAX = 100_000


def check_name(kind: str, name: str) -> str:
    if type(name) is str and name in _GOOD_NAMES:
        return name
    if not _NAME.fullmatch(name) or name in _RESERVED:
        raise ValueError(
            f"{kind} {name!r} must match [A-Za-z][A-Za-z0-9_]* (≤64) and not be 'time'"
        )
    if len(_GOOD_NAMES) < _GOOD_NAMES_MAX and type(name) is str:
        _GOOD_NAMES.add(name)
    return name


def check_tag_value(key: str, value: str) -> str:
    """Tag values carry user data (pseudonyms, device names); refuse what line protocol can't hold.

    InfluxDB drops empty tag values and cannot escape a backslash in a tag (``a\\,b`` is
    ambiguous), and control characters have no escape at all.
    """
    if not isinstance(value, str) or not value:
        raise ValueError(f"tag {key!r} must be a non-empty string")
    if len(value) > MAX_TAG_VALUE_LEN:
        raise ValueError(f"tag {key!r} is longer than {MAX_TAG_VALUE_LEN} characters")
    if _BAD_TAG_CHAR.search(value):
        raise ValueError(f"tag {key!r} may not contain backslashes or control characters")
    return value


def field_type(value: FieldValue) -> FieldType:
    # bool first: bool is a subclass of int.
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    raise ValueError(f"unsupported field value {value!r}")


def _check_field(key: str, value: FieldValue) -> None:
    field_type(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"field {key!r} is not finite ({value})")
    if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
        raise ValueError(f"field {key!r} does not fit a signed 64-bit integer")
    if isinstance(value, str) and len(value) > _MAX_STRING:
        raise ValueError(f"field {key!r} is longer than 64 KiB")


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One point: a measurement, its tags (series key), fields (values) and time in ms UTC.

    Validated on construction, so a bad point fails where it is made, not inside a batch.
    """

    measurement: str
    tags: Mapping[str, str]
    fields: Mapping[str, FieldValue]
    time_ms: int

    def __post_init__(self) -> None:
        names_known = (
            type(self.measurement) is str
            and self.measurement in _GOOD_NAMES
            and _GOOD_NAMES.issuperset(self.tags)
            and _GOOD_NAMES.issuperset(self.fields)
        )
        if not names_known:  # first sight of a name: the full checks, same order, same errors
            self._check_slowly()
            return
        # The hot path (every ingested reading): names already proven good, so only the
        # values are checked, with the common exact types tested inline. A tag set is a
        # series key and repeats for every point of the series: checked once, then shared.
        seen = tuple(self.tags.items())
        try:
            tags = _GOOD_TAGS.get(seen)
        except TypeError:  # an unhashable value: not a string, as the checks will say
            tags = None
        if tags is None:
            fresh = dict(sorted(self.tags.items()))
            for key, tag in fresh.items():
                if type(tag) is not str or not tag or len(tag) > MAX_TAG_VALUE_LEN or (
                    _BAD_TAG_CHAR.search(tag)
                ):
                    check_tag_value(key, tag)  # raises with the reason
            if len(_GOOD_TAGS) >= _GOOD_TAGS_MAX:
                _GOOD_TAGS.clear()
            tags = _GOOD_TAGS[seen] = MappingProxyType(fresh)
        fields = dict(sorted(self.fields.items()))
        if not fields:
            raise ValueError("a point needs at least one field")
        for key, value in fields.items():
            kind = type(value)
            if kind is float:
                if math.isfinite(value):  # type: ignore[arg-type]
                    continue
            elif kind is bool:
                continue
            elif kind is str:
                if len(value) <= _MAX_STRING:  # type: ignore[arg-type]
                    continue
            elif kind is int and INT64_MIN <= value <= INT64_MAX:  # type: ignore[operator]
                continue
            _check_field(key, value)  # raises with the reason, or accepts a subclass
        self._finish(tags, fields)

    def _check_slowly(self) -> None:
        check_name("measurement", self.measurement)
        tags = {
            check_name("tag key", k): check_tag_value(k, v) for k, v in sorted(self.tags.items())
        }
        fields = dict(sorted(self.fields.items()))
        if not fields:
            raise ValueError("a point needs at least one field")
        for key, value in fields.items():
            check_name("field key", key)
            _check_field(key, value)
        self._finish(tags, fields)

    def _finish(self, tags: Mapping[str, str], fields: dict[str, FieldValue]) -> None:
        if clash := tags.keys() & fields.keys():
            raise ValueError(f"names used as both tag and field: {sorted(clash)}")
        if (
            isinstance(self.time_ms, bool)
            or not isinstance(self.time_ms, int)
            or not 0 <= self.time_ms < MAX_TIME_MS
        ):
            raise ValueError(f"time_ms must be an integer in [0, {MAX_TIME_MS}) (ms since 1970)")
        if type(tags) is not MappingProxyType:
            tags = MappingProxyType(tags)
        object.__setattr__(self, "tags", tags)
        object.__setattr__(self, "fields", MappingProxyType(fields))

    @property
    def series_key(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        return self.measurement, tuple(self.tags.items())

    def __hash__(self) -> int:
        return hash((self.series_key, tuple(self.fields.items()), self.time_ms))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SeriesPoint):
            return NotImplemented
        return (self.series_key, dict(self.fields), self.time_ms) == (
            other.series_key,
            dict(other.fields),
            other.time_ms,
        )


@dataclass(frozen=True, slots=True)
class Row:
    """One row of a query result.

    Raw queries: one row per stored point, ``tags`` = that point's full tag set.
    Downsampled queries: one row per non-empty time bucket (``time_ms`` = bucket start,
    buckets aligned to multiples of ``every_ms`` since the epoch), aggregated across every series
    that matched, ``tags`` = the filter that was asked for. Fields without a value are absent.
    """

    time_ms: int
    tags: Mapping[str, str]
    fields: Mapping[str, FieldValue]


@dataclass(frozen=True, slots=True)
class Rejected:
    point: SeriesPoint
    reason: str


@dataclass(frozen=True, slots=True)
class WriteResult:
    """Outcome of a write. Points not in ``rejected`` are durably stored."""

    written: int
    rejected: tuple[Rejected, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.rejected


@dataclass(frozen=True, slots=True)
class RangeQuery:
    """A validated ``query_range`` request, shared by both implementations."""

    measurement: str
    tags: Mapping[str, str]
    start_ms: int
    end_ms: int
    fields: tuple[str, ...] | None
    every_ms: int | None
    agg: Aggregate
    limit: int | None
    descending: bool

    @classmethod
    def build(
        cls,
        measurement: str,
        tags: Mapping[str, str],
        start_ms: int,
        end_ms: int,
        fields: Sequence[str] | None,
        every_ms: int | None,
        agg: str,
        limit: int | None,
        descending: bool,
    ) -> RangeQuery:
        check_name("measurement", measurement)
        clean_tags = {
            check_name("tag key", k): check_tag_value(k, v) for k, v in sorted(tags.items())
        }
        names = None if fields is None else tuple(check_name("field key", f) for f in fields)
        if names is not None and not names:
            raise ValueError("fields, when given, must name at least one field")
        if not 0 <= start_ms <= end_ms:
            raise ValueError("need 0 <= start_ms <= end_ms")
        if every_ms is not None and every_ms <= 0:
            raise ValueError("every_ms must be positive")
        if agg not in AGGREGATES:
            raise ValueError(f"agg must be one of {AGGREGATES}")
        if limit is not None and limit <= 0:
            raise ValueError("limit must be positive")
        return cls(
            measurement,
            MappingProxyType(clean_tags),
            min(int(start_ms), MAX_TIME_MS),
            min(int(end_ms), MAX_TIME_MS),  # "until forever" must not overflow InfluxQL
            names,
            every_ms,
            agg,
            limit,
            descending,
        )


@runtime_checkable
class TimeSeriesStore(Protocol):
    """Where vitals time series live. All methods are coroutines; ``aclose`` releases resources."""

    async def write(self, points: Sequence[SeriesPoint]) -> WriteResult:
        """Store points idempotently. Bad points are rejected with a reason, good ones kept.

        Raises :class:`StoreUnavailable` (retry later; what was written stays written) or
        :class:`StoreConfigError` (fix the configuration).
        """
        ...

    async def query_range(
        self,
        measurement: str,
        tags: Mapping[str, str],
        start_ms: int,
        end_ms: int,
        *,
        fields: Sequence[str] | None = None,
        every_ms: int | None = None,
        agg: Aggregate = "mean",
        limit: int | None = None,
        descending: bool = False,
    ) -> list[Row]:
        """Rows of ``measurement`` whose tags include ``tags``, with ``start_ms <= t < end_ms``.

        Without ``every_ms``: raw points, ordered by time (then tags). With ``every_ms``:
        server-side ``agg`` of the numeric fields per time bucket (empty buckets omitted).
        ``limit`` caps the number of rows returned (earliest first, or latest with
        ``descending``).
        """
        ...

    async def count(self, measurement: str, tags: Mapping[str, str]) -> int:
        """How many points of ``measurement`` match ``tags``."""
        ...

    async def ping(self) -> bool:
        """True when the store answers; never raises."""
        ...

    async def aclose(self) -> None: ...
