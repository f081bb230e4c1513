"""SeriesSink: archive + time series, the error taxonomy, tenants and ECG metrics.

The time series is the in-memory SQLite store (it passes the same contract tests as
InfluxDB); the archive is the in-memory sink. The real-service paths are in test_scale_out.py.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta

import pytest

from cloud_api import tsdb
from cloud_api.ingest.batch import IngestBatch
from cloud_api.ingest.series import SeriesSink
from cloud_api.ingest.sinks import MemorySink, StoreUnavailable
from cloud_api.tsdb.base import SeriesPoint
from cloud_api.tsdb.sqlite_store import SqliteStore
from firmware_sim.scenario import synth_ecg
from tests.cloud_api.factories import DEVICE, T0, bp
from vitals.ids import new_msg_id
from vitals.readings import EcgStrip, Glucose
from vitals.units import GlucoseUnit

GW = "gw-demo-1"


@pytest.fixture
async def series() -> AsyncIterator[SqliteStore]:
    store = await SqliteStore.open(":memory:")
    yield store
    await store.aclose()


def batch(*readings: object, tenant: str | None = "7") -> IngestBatch:
    return IngestBatch(T0, GW, readings=readings, tenant=tenant,  # type: ignore[arg-type]
                       ack_ids=tuple(r.msg_id for r in readings))  # type: ignore[attr-defined]


def glucose(minutes: float = 0) -> Glucose:
    at = T0 + timedelta(minutes=minutes)
    return Glucose(msg_id=new_msg_id(at), patient="demo-patient-1", device=DEVICE,
                   measured_at=at, simulated=True, mg_dl=104.0, value_received=104.0,
                   unit_received=GlucoseUnit.MG_DL)


async def test_readings_land_in_both_stores_with_the_tenant_tag(series: SqliteStore) -> None:
    archive = MemorySink()
    sink = SeriesSink(archive, series)
    items = [bp(minutes=i) for i in range(3)]
    result = await sink.write_many([batch(*items[:2]), batch(items[2], tenant="8")])
    assert result.stored == 3
    assert set(archive.records) == {i.msg_id for i in items}
    assert await series.count("bp", {"tenant": "7"}) == 2
    assert await series.count("bp", {"tenant": "8"}) == 1
    again = await sink.write(batch(*items[:2]))  # a redelivery changes nothing anywhere
    assert again.duplicates == 2 and await series.count("bp", {}) == 3


async def test_rejected_points_dead_letter_their_readings_and_keep_the_good(
    series: SqliteStore,
) -> None:
    # Someone wrote `systolic` as a string first: float systolic points now conflict.
    await series.write([SeriesPoint("bp", {"tenant": "0"}, {"systolic": "high"}, 1)])
    archive = MemorySink()
    bad, good = bp(), glucose()
    result = await SeriesSink(archive, series).write(batch(bad, good))
    assert set(archive.records) == {good.msg_id}
    [letter] = archive.dead_letters.values()
    assert letter.msg_id == bad.msg_id and "time-series store" in letter.reason
    assert result.dead_lettered == 1
    assert await series.count("glucose", {"tenant": "7"}) == 1


async def test_no_tenant_is_never_guessed(series: SqliteStore) -> None:
    archive = MemorySink()
    item = bp()
    await SeriesSink(archive, series).write(batch(item, tenant=None))
    assert not archive.records and await series.count("bp", {}) == 0
    [letter] = archive.dead_letters.values()
    assert "no tenant" in letter.reason


class FailingSeries:
    def __init__(self, error: Exception) -> None:
        self.error = error

    async def write(self, points: Sequence[SeriesPoint]) -> tsdb.WriteResult:
        raise self.error


async def test_unavailable_time_series_means_retry_and_nothing_archived() -> None:
    archive = MemorySink()
    sink = SeriesSink(archive, FailingSeries(tsdb.StoreUnavailable("503")))  # type: ignore[arg-type]
    with pytest.raises(StoreUnavailable):
        await sink.write(batch(bp()))
    assert not archive.records  # not acked → redelivered → written then


async def test_misconfigured_time_series_is_fatal() -> None:
    sink = SeriesSink(MemorySink(), FailingSeries(tsdb.StoreConfigError("401")))  # type: ignore[arg-type]
    with pytest.raises(tsdb.StoreConfigError):
        await sink.write(batch(bp()))


async def test_ecg_strip_gives_a_summary_with_derived_metrics(series: SqliteStore) -> None:
    fs = 250.0
    samples = synth_ecg([0.8] * 40, fs, rhythm="sinus", noise_uv=10.0,
                        rng=random.Random(3), duration_s=30.0)
    strip = EcgStrip(msg_id=new_msg_id(T0), patient="demo-patient-1", device=DEVICE,
                     measured_at=T0, simulated=True, fs_hz=fs, start=T0,
                     samples_uv=tuple(samples))
    archive = MemorySink()
    await SeriesSink(archive, series).write(batch(strip))
    assert strip.msg_id in archive.records  # the waveform stays in the archive
    [row] = await series.query_range("ecg_summary", {}, 0, 2**62)
    assert row.fields["samples"] == len(samples) and row.fields["chunk_ref"] == strip.msg_id
    hr = row.fields["hr"]
    assert isinstance(hr, float) and 70 < hr < 80  # RR 0.8 s = 75 bpm


async def test_gateway_status_is_forwarded_to_an_archive_that_keeps_it(
    series: SqliteStore,
) -> None:
    from datetime import datetime

    from vitals.status import GatewayState, GatewayStatus

    class StatusArchive(MemorySink):
        def __init__(self) -> None:
            super().__init__()
            self.statuses: list[GatewayStatus] = []

        async def write_statuses(self, statuses: Sequence[GatewayStatus],
                                 received_at: datetime) -> None:
            self.statuses.extend(statuses)

    archive = StatusArchive()
    status = GatewayStatus(gateway=GW, state=GatewayState.ONLINE, boot_id=new_msg_id(T0), at=T0,
                           software="test", simulated=True)
    await SeriesSink(archive, series).write_statuses([status], T0)
    await SeriesSink(MemorySink(), series).write_statuses([status], T0)  # no such method: no-op
    assert archive.statuses == [status]


async def test_gateway_status_becomes_a_gw_health_point_with_its_tenant(
    series: SqliteStore,
) -> None:
    from datetime import datetime

    from cloud_api.db.directory import GatewayAssignment
    from vitals.status import DeviceHealth, GatewayState, GatewayStatus

    class StatusArchive(MemorySink):
        def __init__(self) -> None:
            super().__init__([GatewayAssignment(GW, 7, frozenset({"demo-patient-1"}))])
            self.statuses: list[GatewayStatus] = []

        async def write_statuses(self, statuses: Sequence[GatewayStatus],
                                 received_at: datetime) -> None:
            self.statuses.extend(statuses)

    def status(gateway: str) -> GatewayStatus:
        return GatewayStatus(gateway=gateway, state=GatewayState.ONLINE, boot_id="b", at=T0,
                             outbox_depth=12, simulated=True,
                             devices=(DeviceHealth(device="1", battery_pct=30),
                                      DeviceHealth(device="2", battery_pct=55)))

    archive = StatusArchive()
    sink = SeriesSink(archive, series)
    await sink.write_statuses([status(GW)], T0)
    await sink.write_statuses([status("gw-unregistered")], T0)  # no tenant known: no point
    [row] = await series.query_range("gw_health", {}, 0, 2**62)
    assert dict(row.tags) == {"tenant": "7", "gw": GW}
    assert row.fields["outbox_depth"] == 12 and row.fields["battery_min"] == 30
    assert [s.gateway for s in archive.statuses] == [GW, "gw-unregistered"]
    # A time series that is down costs the health point only, never the presence.
    down = SeriesSink(archive, FailingSeries(tsdb.StoreUnavailable("503")))  # type: ignore[arg-type]
    await down.write_statuses([status(GW)], T0)
    assert len(archive.statuses) == 3
