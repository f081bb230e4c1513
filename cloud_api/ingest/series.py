"""``SeriesSink``: the relational archive AND the time-series store, behind one ``ReadingSink``.

Order matters. The time series is written first; points it rejects for good (type conflict,
beyond retention, an unencodable tag) turn their readings into dead letters, and only then
does the archive transaction store the good readings plus those dead letters. So a reading is
either in both stores or dead-lettered with the store's reason, never half-kept. If the
archive write fails after the time-series write succeeded, nothing is acked; the redelivery
rewrites the same points (idempotent: same series key and timestamp) and the archive's
msg_id key absorbs what it already has.

Error taxonomy (docs/ingest.md): ``tsdb.StoreUnavailable`` → ingest ``StoreUnavailable``
(the worker retries, never acks); ``tsdb.StoreConfigError`` propagates (fatal: the worker
exits non-zero with the reason); rejected points → dead letters.

ECG waveform chunks stay in the relational archive (the reading row's body); the time series
gets ``ecg_summary`` with metrics from ``edge_rules.ecg.analyze`` (measured ≈ 5 ms per 30 s
strip, in a thread; strips are a few per patient per day).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import cast

from cloud_api import tsdb
from cloud_api.ingest.batch import AnyReading, DeadLetter, IngestBatch, WriteResult
from cloud_api.ingest.directory import CachedDirectory
from cloud_api.ingest.handler import GatewayDirectory, tenant_of
from cloud_api.ingest.sinks import ReadingSink, StatusSink, StoreUnavailable
from cloud_api.tsdb.schema import EcgMetrics, gw_health_point, points_for
from vitals.readings import EcgStrip
from vitals.status import GatewayStatus
from vitals.topics import TopicKind
from vitals.topics import topic as vitals_topic

log = logging.getLogger(__name__)
DIRECTORY_TTL_S = 30.0  # a gateway's organisation practically never changes


def ecg_metrics(strip: EcgStrip) -> EcgMetrics | None:
    """Derived metrics of one strip, or None when the analysis cannot run on it."""
    from edge_rules.ecg.analysis import analyze  # numpy/scipy only once an ECG arrives

    if len(strip.samples_uv) < 2 * strip.fs_hz:  # too short to find beats in
        return None
    try:
        return EcgMetrics.from_analysis(
            analyze([s / 1000.0 for s in strip.samples_uv], strip.fs_hz))
    except Exception:  # the summary without metrics is still worth storing
        log.exception("ECG analysis failed on %s", strip.msg_id)
        return None


class SeriesSink:
    """Write each batch to ``series`` (points) and ``archive`` (system of record)."""

    def __init__(self, archive: ReadingSink, series: tsdb.TimeSeriesStore,
                 *, analyze_ecg: bool = True, directory: CachedDirectory | None = None) -> None:
        self.archive = archive
        self.series = series
        self.analyze_ecg = analyze_ecg
        # The archive doubles as the gateway directory (SqlStore): cached — by the worker's
        # own cache when given (one look-up serves the status path and the readings' path).
        self._directory = directory or (
            CachedDirectory(cast(GatewayDirectory, archive), DIRECTORY_TTL_S)
            if callable(getattr(archive, "assignment", None)) else None)

    async def write(self, batch: IngestBatch) -> WriteResult:
        return await self.write_many([batch])

    async def write_many(self, batches: Sequence[IngestBatch]) -> WriteResult:
        batches = await self._write_series(batches)
        return await self.archive.write_many(batches)

    async def write_statuses(self, statuses: Sequence[GatewayStatus],
                             received_at: datetime) -> None:
        """Presence goes to the archive (the source of truth the alert rule and the fleet API
        read), then ``gw_health`` points to the time series (one write), tagged with the
        tenant the archive's gateway directory names. A health point is a trend, not a
        record: if it cannot be written it is logged and dropped, never holding up presence."""
        if isinstance(self.archive, StatusSink):
            await self.archive.write_statuses(statuses, received_at)
        if self._directory is None:
            return
        # The worker has looked these gateways up already, in one call, into the cache it
        # shares with us (IngestWorker._statuses): these are cache hits.
        points: list[tsdb.SeriesPoint] = []
        for status in statuses:
            try:
                assignment = await self._directory.assignment(status.gateway)
            except StoreUnavailable as exc:
                log.warning("gw_health point of %s dropped: %s", status.gateway, exc)
                continue
            if assignment is not None:  # unregistered: never guess a tenant tag
                points.append(gw_health_point(status, tenant_of(assignment)))
        if not points:
            return
        try:
            result = await self.series.write(points)
        except tsdb.StoreUnavailable as exc:
            for point in points:
                log.warning("gw_health point of %s dropped: %s", point.tags.get("gw"), exc)
            return
        for rejected in result.rejected:
            log.warning("gw_health point of %s rejected: %s", rejected.point.tags.get("gw"),
                        rejected.reason)

    async def _write_series(self, batches: Sequence[IngestBatch]) -> list[IngestBatch]:
        points: list[tsdb.SeriesPoint] = []
        owner: dict[str, tuple[int, AnyReading]] = {}  # reading msg_id → (batch index, reading)
        refused: dict[str, str] = {}  # reading msg_id → reason
        for index, batch in enumerate(batches):
            for reading in batch.readings:
                owner[reading.msg_id] = (index, reading)
                if batch.tenant is None:  # never guess a tenant tag: a wrong one leaks data
                    refused[reading.msg_id] = "no tenant known for this reading's gateway"
                    continue
                tenant = batch.tenant
                try:
                    points += points_for(reading, tenant, ecg=await self._metrics(reading))
                except (ValueError, TypeError) as exc:  # e.g. a tag value line protocol can't carry
                    refused[reading.msg_id] = f"no time-series point: {exc}"
        if points:
            try:
                result = await self.series.write(points)
            except tsdb.StoreUnavailable as exc:
                raise StoreUnavailable(f"time-series store: {exc}") from exc
            for rejected in result.rejected:
                msg_id = rejected.point.fields.get("msg_id")
                if isinstance(msg_id, str) and msg_id in owner:
                    refused[msg_id] = f"rejected by the time-series store: {rejected.reason}"
        if not refused:
            return list(batches)
        return [_dead_letter(b, refused) for b in batches]

    async def _metrics(self, reading: AnyReading) -> EcgMetrics | None:
        if not self.analyze_ecg or not isinstance(reading, EcgStrip):
            return None
        return await asyncio.to_thread(ecg_metrics, reading)


def _dead_letter(batch: IngestBatch, refused: dict[str, str]) -> IngestBatch:
    """``batch`` with the refused readings moved to dead letters (still acked: kept for a human)."""
    keep = tuple(r for r in batch.readings if r.msg_id not in refused)
    if len(keep) == len(batch.readings):
        return batch
    topic = vitals_topic(batch.gateway or "unknown", TopicKind.READINGS)
    letters = tuple(
        DeadLetter(topic, r.model_dump_json().encode(), refused[r.msg_id][:2000],
                   batch.received_at, batch.gateway, r.msg_id)
        for r in batch.readings if r.msg_id in refused
    )
    for letter in letters:
        log.warning("dead-lettering reading %s: %s", letter.msg_id, letter.reason)
    return dataclasses.replace(batch, readings=keep, dead_letters=batch.dead_letters + letters)
