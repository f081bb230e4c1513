"""Time-series storage for vitals: the ``TimeSeriesStore`` seam and its two backends.

``await open_store(TsdbConfig(...))`` gives the configured backend; see docs/storage.md.
"""

from __future__ import annotations

from cloud_api.tsdb.base import (
    Aggregate,
    FieldValue,
    Rejected,
    Row,
    SeriesPoint,
    StoreConfigError,
    StoreError,
    StoreUnavailable,
    TimeSeriesStore,
    WriteResult,
)
from cloud_api.tsdb.config import InfluxConfig, TsdbConfig


async def open_store(config: TsdbConfig) -> TimeSeriesStore:
    """Open the backend ``config`` names. The caller owns it: ``await store.aclose()``."""
    if config.backend == "influx":
        from cloud_api.tsdb.influx_v1 import InfluxV1Store

        return InfluxV1Store(config.influx)
    from cloud_api.tsdb.sqlite_store import SqliteStore

    return await SqliteStore.open(config.sqlite_path, synchronous=config.sqlite_synchronous)


__all__ = [
    "Aggregate",
    "FieldValue",
    "InfluxConfig",
    "Rejected",
    "Row",
    "SeriesPoint",
    "StoreConfigError",
    "StoreError",
    "StoreUnavailable",
    "TimeSeriesStore",
    "TsdbConfig",
    "WriteResult",
    "open_store",
]
