"""``TimeSeriesStore`` on InfluxDB's v1 HTTP API (``/write`` + ``/query``), with httpx.

The v1 API is the one surface InfluxDB 1.x, 2.x (DBRP mapping) and 3.x all serve, and the only
one the Debian 1.6.7 has. influxdb-client's write API posts to ``/api/v2/write`` (404 on 1.6.7),
so only its ``Point`` line-protocol serializer is used (``line_protocol.to_line``).

Failure handling (docs/storage.md "Error taxonomy"):
- 204: stored.  413: batch too large → split in halves.
- 400 on a batch: some lines are bad (type conflict, parse error) and InfluxDB may have kept the
  rest. We bisect: re-sending good lines is idempotent (same series + time = same point), so
  halves are re-sent until each bad line stands alone and is reported with the server's reason.
- 401/403/404 and "database/retention policy not found" (1.x answers 500 for a missing rp):
  StoreConfigError, never retried.
- 429, other 5xx, timeouts, connection errors: jittered exponential backoff honouring
  ``Retry-After``; after ``max_retries`` → StoreUnavailable.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType, TracebackType
from typing import Any, NoReturn, Self

import httpx

from cloud_api.tsdb import influxql
from cloud_api.tsdb.base import (
    Aggregate,
    FieldType,
    FieldValue,
    RangeQuery,
    Rejected,
    Row,
    SeriesPoint,
    StoreConfigError,
    StoreUnavailable,
    WriteResult,
)
from cloud_api.tsdb.config import InfluxConfig, check_duration
from cloud_api.tsdb.line_protocol import to_line

__all__ = ["InfluxV1Store", "to_line"]

log = logging.getLogger(__name__)
_NUMERIC: frozenset[str] = frozenset({"float", "integer"})
_ENCODE_INLINE_MAX = 200


def _encode(points: Sequence[SeriesPoint]) -> list[tuple[SeriesPoint, str]]:
    return [(p, to_line(p)) for p in points]


def _error_message(resp: httpx.Response) -> str:
    with contextlib.suppress(ValueError):
        body = resp.json()
        if isinstance(body, dict) and "error" in body:
            return str(body["error"])
    return resp.headers.get("X-Influxdb-Error") or resp.text[:300] or resp.reason_phrase


def _retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(str(value))
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff
    return max(0.0, seconds)


class InfluxV1Store:
    """InfluxDB adapter. ``transport`` is for tests (``httpx.MockTransport``)."""

    def __init__(
        self,
        config: InfluxConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        headers = {"User-Agent": "homerpm-tsdb"}
        if (auth := config.auth_header) is not None:
            headers["Authorization"] = auth
        self._client = httpx.AsyncClient(
            base_url=config.url.rstrip("/"),
            headers=headers,
            timeout=config.timeout_s,
            transport=transport,
        )
        self._sleep = sleep
        self._jitter = jitter
        self._field_types: dict[str, dict[str, FieldType]] = {}

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    # -- HTTP with retries ----------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        cap = min(self.config.backoff_max_s, self.config.backoff_initial_s * 2.0**attempt)
        # "Equal jitter": spreads retries of many workers, never zero, never above the cap.
        return cap * (0.5 + 0.5 * float(self._jitter()))

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send, retrying what is retryable; returns any non-retryable response to the caller."""
        attempt = 0
        while True:
            delay: float | None = None
            try:
                resp = await self._client.request(method, path, **kwargs)
            except httpx.TimeoutException as exc:
                error = StoreUnavailable(f"InfluxDB timed out: {exc!r}")
            except httpx.TransportError as exc:
                error = StoreUnavailable(f"InfluxDB unreachable at {self.config.url}: {exc!r}")
            else:
                status = resp.status_code
                if status < 500 and status != 429:
                    return resp
                message = _error_message(resp)
                if influxql.is_config_message(message):
                    raise StoreConfigError(f"InfluxDB {status}: {message}")
                error = StoreUnavailable(f"InfluxDB {status}: {message}")
                delay = _retry_after(resp)
            if attempt >= self.config.max_retries:
                raise error
            wait = (
                min(delay, self.config.backoff_max_s)
                if delay is not None
                else self._backoff(attempt)
            )
            log.warning(
                "%s; retry %d/%d in %.2f s", error, attempt + 1, self.config.max_retries, wait
            )
            await self._sleep(wait)
            attempt += 1

    def _raise_for_config(self, resp: httpx.Response, what: str) -> NoReturn:
        message = _error_message(resp)
        raise StoreConfigError(f"InfluxDB refused {what} ({resp.status_code}): {message}")

    # -- writing --------------------------------------------------------------------------------

    def _write_params(self) -> dict[str, str]:
        params = {"db": self.config.database, "precision": "ms"}
        if self.config.retention_policy and self.config.flavor != "v3":
            params["rp"] = self.config.retention_policy
        return params

    async def write(self, points: Sequence[SeriesPoint]) -> WriteResult:
        # A few µs a point: a 5000-point batch would still hold the event loop for tens of
        # ms, so big batches are encoded on a worker thread.
        if len(points) > _ENCODE_INLINE_MAX:
            lines = await asyncio.to_thread(_encode, points)
        else:
            lines = _encode(points)
        rejected: list[Rejected] = []
        size = self.config.batch_size
        for start in range(0, len(lines), size):
            await self._write_chunk(lines[start : start + size], rejected)
        return WriteResult(written=len(points) - len(rejected), rejected=tuple(rejected))

    async def _write_chunk(
        self, chunk: list[tuple[SeriesPoint, str]], rejected: list[Rejected]
    ) -> None:
        body = "\n".join(line for _, line in chunk).encode()
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        if self.config.gzip:
            body = gzip.compress(body, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
        resp = await self._request(
            "POST", "/write", params=self._write_params(), content=body, headers=headers
        )
        status = resp.status_code
        if status in (200, 204):
            return
        message = _error_message(resp)
        if status == 413 or (status == 400 and not influxql.is_config_message(message)):
            if len(chunk) == 1:
                log.warning("InfluxDB rejected a point (%d): %s", status, message)
                rejected.append(Rejected(chunk[0][0], f"{status}: {message}"))
                return
            mid = len(chunk) // 2
            await self._write_chunk(chunk[:mid], rejected)
            await self._write_chunk(chunk[mid:], rejected)
            return
        self._raise_for_config(resp, "the write")

    # -- querying -------------------------------------------------------------------------------

    async def _query(
        self, text: str, params: Mapping[str, str] | None = None, *, method: str = "GET"
    ) -> list[list[influxql.Series]]:
        args = {"db": self.config.database, "q": text, "epoch": "ms"}
        if params:
            args["params"] = influxql.encode_params(params)
        if method == "GET":
            resp = await self._request("GET", "/query", params=args)
        else:
            resp = await self._request("POST", "/query", data=args)
        if resp.status_code != 200:
            self._raise_for_config(resp, "the query")
        try:
            body = resp.json()
        except json.JSONDecodeError as exc:
            raise StoreUnavailable(f"InfluxDB sent invalid JSON: {exc}") from exc
        return influxql.statement_series(body)

    async def _types(self, measurement: str, *, refresh: bool = False) -> dict[str, FieldType]:
        if refresh or measurement not in self._field_types:
            (series,) = await self._query(influxql.field_keys_query(measurement))
            self._field_types[measurement] = {
                name: kind for s in series for name, kind in s.get("values", [])
            }
        return self._field_types[measurement]

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
        q = RangeQuery.build(
            measurement, tags, start_ms, end_ms, fields, every_ms, agg, limit, descending
        )
        if q.every_ms is None:
            return await self._raw(q)
        # Field types decide what is aggregated; a field may have appeared since we cached them.
        types = await self._types(q.measurement)
        if q.fields is None or not set(q.fields) <= types.keys():
            types = await self._types(q.measurement, refresh=True)
        return await self._downsample(q, types)

    async def _raw(self, q: RangeQuery) -> list[Row]:
        (series,) = await self._query(*influxql.raw_query(q))
        types = await self._types(q.measurement)
        if any(name not in types for s in series for name in s["columns"][1:]):
            types = await self._types(q.measurement, refresh=True)
        rows: list[Row] = []
        for s in series:
            tags = {k: v for k, v in sorted(s.get("tags", {}).items()) if v}
            columns = s["columns"]
            for values in s.get("values", []):
                fields: dict[str, FieldValue] = {}
                for name, value in zip(columns[1:], values[1:], strict=True):
                    coerced = influxql.coerce(value, types.get(name))
                    if coerced is not None:
                        fields[name] = coerced
                rows.append(Row(int(values[0]), MappingProxyType(tags), MappingProxyType(fields)))
        rows.sort(key=lambda r: (r.time_ms, tuple(r.tags.items())), reverse=q.descending)
        return rows[: q.limit]

    async def _downsample(self, q: RangeQuery, types: dict[str, FieldType]) -> list[Row]:
        numeric = sorted(n for n, kind in types.items() if kind in _NUMERIC)
        names = numeric if q.fields is None else [f for f in q.fields if f in numeric]
        if not names:
            return []
        (series,) = await self._query(*influxql.downsample_query(q, names))
        rows: list[Row] = []
        for s in series:
            columns = s["columns"]
            for values in s.get("values", []):
                fields: dict[str, FieldValue] = {}
                for name, value in zip(columns[1:], values[1:], strict=True):
                    kind: FieldType | None = {"mean": "float", "count": "integer"}.get(  # type: ignore[assignment]
                        q.agg, types.get(name)
                    )
                    coerced = influxql.coerce(value, kind)
                    if coerced is not None:
                        fields[name] = coerced
                if fields:
                    rows.append(Row(int(values[0]), q.tags, MappingProxyType(fields)))
        return rows

    async def count(self, measurement: str, tags: Mapping[str, str]) -> int:
        """Points matching ``tags``: per series the count of its most populated field, summed.

        InfluxQL cannot count rows directly; this is exact when every point of a series carries
        at least one common field (ours all carry ``simulated``).
        """
        q = RangeQuery.build(measurement, tags, 0, 0, None, None, "count", None, False)
        (series,) = await self._query(*influxql.count_query(q.measurement, q.tags))
        return sum(
            max((int(v) for v in values[1:] if v is not None), default=0)
            for s in series
            for values in s.get("values", [])
        )

    async def ping(self) -> bool:
        try:
            resp = await self._client.get("/ping")
        except httpx.HTTPError:
            return False
        return resp.status_code in (200, 204)

    # -- provisioning (dev/test; production uses version-specific migrations) -------------------

    async def ensure_database(self, duration: str | None = None) -> None:
        """``CREATE DATABASE`` (idempotent), with the configured retention policy as default."""
        db = influxql.quote_ident(self.config.database)
        text = f"CREATE DATABASE {db}"
        if self.config.retention_policy or duration:
            text += f" WITH DURATION {check_duration(duration or 'INF')} REPLICATION 1"
            if self.config.retention_policy:
                text += f" NAME {influxql.quote_ident(self.config.retention_policy)}"
        await self._query(text, method="POST")

    async def drop_database(self) -> None:
        await self._query(
            f"DROP DATABASE {influxql.quote_ident(self.config.database)}", method="POST"
        )
        self._field_types.clear()
