"""InfluxQL text for the range queries, and parsing of ``/query`` JSON.

Names are validated (``base.check_name``) and still quoted; user data (tag values) never enters
the query text — it travels in the ``params`` JSON and is bound server-side as ``$tN``.
Times are integers we format ourselves.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from cloud_api.tsdb.base import FieldType, FieldValue, RangeQuery, StoreConfigError, StoreError

Series = dict[str, Any]


def quote_ident(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def quote_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _where(
    tags: Mapping[str, str], start_ms: int | None = None, end_ms: int | None = None
) -> tuple[str, dict[str, str]]:
    clauses: list[str] = []
    params: dict[str, str] = {}
    for i, (key, value) in enumerate(tags.items()):
        clauses.append(f"{quote_ident(key)} = $t{i}")
        params[f"t{i}"] = value
    if start_ms is not None and end_ms is not None:
        clauses.append(f"time >= {int(start_ms)}ms AND time < {int(end_ms)}ms")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def raw_query(q: RangeQuery) -> tuple[str, dict[str, str]]:
    """Raw points, one series per tag set (``GROUP BY *``) so every row knows its tags.

    ``LIMIT`` then applies per series; the caller merges and cuts to the global limit, which is
    still exact because the global first N rows are among each series' first N.
    """
    cols = "*::field" if q.fields is None else ", ".join(quote_ident(f) for f in q.fields)
    where, params = _where(q.tags, q.start_ms, q.end_ms)
    order = "DESC" if q.descending else "ASC"
    text = (
        f"SELECT {cols} FROM {quote_ident(q.measurement)}{where} GROUP BY * ORDER BY time {order}"
    )
    if q.limit is not None:
        text += f" LIMIT {int(q.limit)}"
    return text, params


def downsample_query(q: RangeQuery, names: Sequence[str]) -> tuple[str, dict[str, str]]:
    assert q.every_ms is not None
    cols = ", ".join(f"{q.agg}({quote_ident(n)}) AS {quote_ident(n)}" for n in names)
    where, params = _where(q.tags, q.start_ms, q.end_ms)
    order = "DESC" if q.descending else "ASC"
    text = (
        f"SELECT {cols} FROM {quote_ident(q.measurement)}{where}"
        f" GROUP BY time({int(q.every_ms)}ms) fill(none) ORDER BY time {order}"
    )
    if q.limit is not None:
        text += f" LIMIT {int(q.limit)}"
    return text, params


def count_query(measurement: str, tags: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    where, params = _where(tags)
    return f"SELECT count(*) FROM {quote_ident(measurement)}{where} GROUP BY *", params


def field_keys_query(measurement: str) -> str:
    return f"SHOW FIELD KEYS FROM {quote_ident(measurement)}"


def encode_params(params: Mapping[str, str]) -> str:
    return json.dumps(dict(params), ensure_ascii=False)


_CONFIG_ERRORS = (
    "database not found",
    "retention policy not found",
    "authorization failed",
    "user not found",
    "unable to parse authentication credentials",
)


def is_config_message(message: str) -> bool:
    return any(marker in message for marker in _CONFIG_ERRORS)


def statement_series(body: Any) -> list[list[Series]]:
    """``results[i].series`` for each statement; a statement error becomes an exception."""
    if not isinstance(body, dict) or not isinstance(body.get("results"), list):
        if isinstance(body, dict) and "error" in body:
            raise StoreConfigError(f"InfluxDB query error: {body['error']}")
        raise StoreError(f"unexpected /query response: {str(body)[:200]}")
    out: list[list[Series]] = []
    for result in body["results"]:
        if "error" in result:
            message = str(result["error"])
            raise StoreConfigError(f"InfluxDB query error: {message}")
        out.append(list(result.get("series", [])))
    return out


def coerce(value: Any, kind: FieldType | None) -> FieldValue | None:
    """JSON loses float-ness (``70.0`` comes back as ``70``); restore it from the field type."""
    if value is None:
        return None
    if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value  # type: ignore[no-any-return]
