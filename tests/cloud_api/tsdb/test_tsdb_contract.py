"""The TimeSeriesStore contract, run against SQLite and against a real influxd 1.6.7."""

from __future__ import annotations

import statistics
import zlib
from collections import defaultdict
from collections.abc import Mapping

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloud_api.tsdb.base import MAX_TIME_MS, FieldValue, SeriesPoint, TimeSeriesStore

T0 = 1_700_000_000_000  # 2023-11-14, a round ms timestamp
MIN = 60_000
HOUR = 60 * MIN
A = {"tenant": "clinic-1", "patient": "p-A", "device": "cuff 1"}
B = {"tenant": "clinic-1", "patient": "p-B", "device": "cuff 2"}


def bp(tags: Mapping[str, str], t: int, sys: float, **extra: FieldValue) -> SeriesPoint:
    return SeriesPoint("bp", tags, {"systolic": sys, "diastolic": sys - 40.0, **extra}, t)


async def test_is_a_time_series_store(store: TimeSeriesStore) -> None:
    assert isinstance(store, TimeSeriesStore)
    assert await store.ping() is True


async def test_write_and_read_back_with_types(store: TimeSeriesStore) -> None:
    points = [
        bp(A, T0, 120.0, seq=1, irregular=False, msg_id="01HZX"),
        bp(A, T0 + MIN, 121.5, seq=2, irregular=True, msg_id="01HZY"),
        bp(B, T0 + 30_000, 140.0, seq=7, irregular=False, msg_id="01HZZ"),
    ]
    result = await store.write(points)
    assert result.ok and result.written == 3

    rows = await store.query_range("bp", {"patient": "p-A"}, T0, T0 + HOUR)
    assert [(r.time_ms, dict(r.tags), dict(r.fields)) for r in rows] == [
        (p.time_ms, dict(p.tags), dict(p.fields)) for p in points[:2]
    ]
    first = rows[0].fields
    assert type(first["systolic"]) is float and type(first["seq"]) is int
    assert type(first["irregular"]) is bool and type(first["msg_id"]) is str

    everyone = await store.query_range("bp", {"tenant": "clinic-1"}, T0, T0 + HOUR)
    assert [r.time_ms for r in everyone] == [T0, T0 + 30_000, T0 + MIN]
    assert await store.count("bp", {}) == 3
    assert await store.count("bp", {"patient": "p-B"}) == 1
    assert await store.count("bp", {"patient": "nobody"}) == 0
    assert await store.query_range("glucose", A, T0, T0 + HOUR) == []


async def test_duplicate_writes_are_idempotent(store: TimeSeriesStore) -> None:
    batch = [bp(A, T0 + i * MIN, 110.0 + i, seq=i) for i in range(50)]
    await store.write(batch)
    before = await store.query_range("bp", A, T0, T0 + HOUR)
    for _ in range(2):  # a redelivered batch, then the same batch again
        assert (await store.write(batch)).written == 50
    assert await store.count("bp", A) == 50
    assert await store.query_range("bp", A, T0, T0 + HOUR) == before


async def test_rewrite_unions_fields_last_write_wins(store: TimeSeriesStore) -> None:
    await store.write([SeriesPoint("bp", A, {"systolic": 120.0, "seq": 1}, T0)])
    await store.write([SeriesPoint("bp", A, {"pulse": 61.0}, T0)])
    await store.write([SeriesPoint("bp", A, {"systolic": 125.0}, T0)])
    rows = await store.query_range("bp", A, T0, T0 + 1)
    assert len(rows) == 1
    assert dict(rows[0].fields) == {"systolic": 125.0, "seq": 1, "pulse": 61.0}
    assert await store.count("bp", A) == 1


async def test_open_ended_range_reaches_the_last_point(store: TimeSeriesStore) -> None:
    last = MAX_TIME_MS - 1
    await store.write([bp(A, T0, 120.0), bp(A, last, 121.0)])
    rows = await store.query_range("bp", A, 0, 2**62)
    assert [r.time_ms for r in rows] == [T0, last]


async def test_fields_added_later_keep_their_types(store: TimeSeriesStore) -> None:
    await store.write([SeriesPoint("weight", A, {"kg": 80.0}, T0)])
    assert [dict(r.fields) for r in await store.query_range("weight", A, T0, T0 + 1)] == [
        {"kg": 80.0}
    ]
    await store.write([SeriesPoint("weight", A, {"bmi": 25.0, "user_id": 2}, T0 + 1000)])
    rows = await store.query_range("weight", A, T0, T0 + HOUR)
    assert [dict(r.fields) for r in rows] == [{"kg": 80.0}, {"bmi": 25.0, "user_id": 2}]
    assert type(rows[1].fields["bmi"]) is float and type(rows[1].fields["user_id"]) is int
    hourly = await store.query_range("weight", A, T0, T0 + HOUR, every_ms=HOUR, agg="max")
    assert [dict(r.fields) for r in hourly] == [{"kg": 80.0, "bmi": 25.0, "user_id": 2}]
    assert type(hourly[0].fields["bmi"]) is float


async def test_range_is_half_open_and_fields_select(store: TimeSeriesStore) -> None:
    await store.write([bp(A, T0 + i * 1000, 100.0 + i) for i in range(10)])
    await store.write([SeriesPoint("bp", A, {"note": "only a note"}, T0 + 20_000)])
    rows = await store.query_range("bp", A, T0 + 2000, T0 + 5000)
    assert [r.time_ms for r in rows] == [T0 + 2000, T0 + 3000, T0 + 4000]
    only = await store.query_range("bp", A, T0, T0 + HOUR, fields=["systolic"])
    assert len(only) == 10  # the note-only point has no systolic: not a row here
    assert all(set(r.fields) == {"systolic"} for r in only)


async def test_limit_and_descending_across_series(store: TimeSeriesStore) -> None:
    await store.write([bp(A, T0 + i * 2000, 100.0 + i) for i in range(5)])
    await store.write([bp(B, T0 + 1000 + i * 2000, 200.0 + i) for i in range(5)])
    both = {"tenant": "clinic-1"}
    first = await store.query_range("bp", both, T0, T0 + HOUR, limit=3)
    assert [(r.time_ms, r.tags["patient"]) for r in first] == [
        (T0, "p-A"),
        (T0 + 1000, "p-B"),
        (T0 + 2000, "p-A"),
    ]
    last = await store.query_range("bp", both, T0, T0 + HOUR, limit=2, descending=True)
    assert [(r.time_ms, r.tags["patient"]) for r in last] == [
        (T0 + 9000, "p-B"),
        (T0 + 8000, "p-A"),
    ]


@pytest.mark.parametrize("agg", ["mean", "min", "max", "sum", "count"])
async def test_downsampling_matches_a_reference(store: TimeSeriesStore, agg: str) -> None:
    # Two devices of one patient, every 7 minutes over 5 hours; the hourly aggregate must be
    # taken across both series. Values are irregular so a wrong bucket edge shows.
    dev2 = {**A, "device": "cuff 3"}
    points = [
        bp(A if i % 2 else dev2, T0 + 30 * MIN + i * 7 * MIN, 100.0 + (i * 37) % 23, seq=i)
        for i in range(43)
    ]
    await store.write(points)
    start, end = T0 + HOUR, T0 + 4 * HOUR + 30 * MIN
    buckets: dict[int, list[SeriesPoint]] = defaultdict(list)
    for p in points:
        if start <= p.time_ms < end:
            buckets[p.time_ms // HOUR * HOUR].append(p)
    reference = {"mean": statistics.fmean, "min": min, "max": max, "sum": sum, "count": len}[agg]

    rows = await store.query_range(
        "bp",
        {"patient": "p-A"},
        start,
        end,
        every_ms=HOUR,
        agg=agg,
        fields=["systolic", "seq"],  # type: ignore[arg-type]
    )
    assert [r.time_ms for r in rows] == sorted(buckets)
    for row in rows:
        group = buckets[row.time_ms]
        assert row.fields["systolic"] == pytest.approx(
            reference([p.fields["systolic"] for p in group])
        )
        assert row.fields["seq"] == pytest.approx(reference([p.fields["seq"] for p in group]))
        assert dict(row.tags) == {"patient": "p-A"}

    latest = await store.query_range(
        "bp",
        {"patient": "p-A"},
        start,
        end,
        every_ms=HOUR,
        agg=agg,
        limit=2,
        descending=True,  # type: ignore[arg-type]
    )
    assert [r.time_ms for r in latest] == sorted(buckets, reverse=True)[:2]
    assert "msg_id" not in latest[0].fields  # only numeric fields are aggregated


async def test_partial_write_keeps_good_points_and_reports_bad(store: TimeSeriesStore) -> None:
    await store.write([SeriesPoint("spo2", A, {"spo2_pct": 97.0}, T0)])
    good = [SeriesPoint("spo2", A, {"spo2_pct": 95.0 + i}, T0 + (i + 1) * 1000) for i in range(4)]
    bad_str = SeriesPoint("spo2", B, {"spo2_pct": "ninety"}, T0 + 1500)
    bad_int = SeriesPoint("spo2", A, {"spo2_pct": 93}, T0 + 2500)
    result = await store.write([good[0], bad_str, good[1], good[2], bad_int, good[3]])

    assert result.written == 4
    assert [r.point for r in result.rejected] == [bad_str, bad_int]
    assert all("conflict" in r.reason for r in result.rejected)
    assert await store.count("spo2", {}) == 5
    rows = await store.query_range("spo2", {}, T0, T0 + HOUR)
    assert [r.fields["spo2_pct"] for r in rows] == [97.0, 95.0, 96.0, 97.0, 98.0]


async def test_conflict_inside_one_batch_on_a_new_measurement(store: TimeSeriesStore) -> None:
    first = SeriesPoint("weight", A, {"kg": 70.5}, T0)
    clash = SeriesPoint("weight", B, {"kg": 71}, T0 + 1000)
    result = await store.write([first, clash])
    assert [r.point for r in result.rejected] == [clash]
    assert [r.fields["kg"] for r in await store.query_range("weight", {}, T0, T0 + HOUR)] == [70.5]


async def test_injection_attempts_are_just_values(store: TimeSeriesStore) -> None:
    await store.write([bp(A, T0, 120.0), bp(B, T0, 130.0)])
    for evil in ["p-A' OR '1'='1", 'p-A" OR "1"="1', "p-A' OR patient =~ /.*/ --", "$t0"]:
        assert await store.query_range("bp", {"patient": evil}, T0, T0 + 1) == []
        assert await store.count("bp", {"patient": evil}) == 0


_TAG_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(" ,=\"'=é漢🙂$/"),
        st.characters(exclude_categories=("Cc", "Cs"), exclude_characters="\\"),
    ),
    min_size=1,
    max_size=24,
)
_FIELD_TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(patient=_TAG_TEXT, device=_TAG_TEXT, note=_FIELD_TEXT)
async def test_tag_and_string_escaping_round_trip(
    store: TimeSeriesStore, patient: str, device: str, note: str
) -> None:
    t = T0 + zlib.crc32(f"{patient}\0{device}\0{note}".encode()) % 10**9
    tags = {"tenant": "t,= 1", "patient": patient, "device": device}
    point = SeriesPoint("ecg_summary", tags, {"chunk_ref": note, "hr": 60.0}, t)
    assert (await store.write([point])).ok
    rows = await store.query_range("ecg_summary", {"patient": patient, "device": device}, t, t + 1)
    assert [(dict(r.tags), dict(r.fields)) for r in rows] == [(tags, dict(point.fields))]
