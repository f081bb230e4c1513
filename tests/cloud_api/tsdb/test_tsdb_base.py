"""SeriesPoint refuses, at construction, what a store could not hold faithfully."""

from __future__ import annotations

import pytest

from cloud_api.tsdb.base import RangeQuery, SeriesPoint

T = {"tenant": "c1", "patient": "p1"}


@pytest.mark.parametrize(
    ("measurement", "tags", "fields", "time_ms"),
    [
        ("bp bad", T, {"v": 1.0}, 0),
        ("bp", {"time": "x"}, {"v": 1.0}, 0),
        ("bp", {"_m": "x"}, {"v": 1.0}, 0),
        ("bp", {"patient": ""}, {"v": 1.0}, 0),
        ("bp", {"patient": "a\\b"}, {"v": 1.0}, 0),
        ("bp", {"patient": "a\nb"}, {"v": 1.0}, 0),
        ("bp", T, {}, 0),
        ("bp", T, {"v": float("nan")}, 0),
        ("bp", T, {"v": float("inf")}, 0),
        ("bp", T, {"v": 2**63}, 0),
        ("bp", T, {"v": None}, 0),
        ("bp", T, {"patient": 1.0}, 0),
        ("bp", T, {"v": 1.0}, -1),
        ("bp", T, {"v": 1.0}, 2**62),
        ("bp", T, {"v": 1.0}, 1.5),
        ("bp", T, {"v": 1.0}, True),
    ],
)
def test_invalid_points_are_refused(
    measurement: str, tags: dict, fields: dict, time_ms: int
) -> None:
    with pytest.raises(ValueError):
        SeriesPoint(measurement, tags, fields, time_ms)


def test_point_is_an_immutable_hashable_value() -> None:
    a = SeriesPoint("bp", {"b": "2", "a": "1"}, {"y": 1, "x": True}, 5)
    b = SeriesPoint("bp", {"a": "1", "b": "2"}, {"x": True, "y": 1}, 5)
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert list(a.tags) == ["a", "b"]
    with pytest.raises(TypeError):
        a.tags["c"] = "3"  # type: ignore[index]
    assert a != SeriesPoint("bp", {"a": "1", "b": "2"}, {"x": True, "y": 2}, 5)


def test_a_known_series_still_has_its_tag_values_checked() -> None:
    """Tag sets are checked once and then shared; a new value under known names is new."""
    good = SeriesPoint("bp", {"tenant": "c1", "patient": "p1"}, {"v": 1.0}, 1)
    again = SeriesPoint("bp", {"tenant": "c1", "patient": "p1"}, {"v": 2.0}, 2)
    assert again.tags == good.tags and list(again.tags) == ["patient", "tenant"]
    with pytest.raises(TypeError):
        again.tags["x"] = "y"  # type: ignore[index]
    for bad in ("", "a\\b", "a\tb", "x" * 257):
        with pytest.raises(ValueError):
            SeriesPoint("bp", {"tenant": "c1", "patient": bad}, {"v": 1.0}, 3)
    with pytest.raises(ValueError):  # unhashable: still the value error, not a TypeError
        SeriesPoint("bp", {"tenant": "c1", "patient": ["p1"]}, {"v": 1.0}, 4)  # type: ignore[dict-item]
    with pytest.raises(ValueError):  # a known tag set as a field name too
        SeriesPoint("bp", {"tenant": "c1", "patient": "p1"}, {"patient": 1.0}, 5)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"start_ms": 10, "end_ms": 5},
        {"every_ms": 0},
        {"agg": "median"},
        {"limit": 0},
        {"fields": []},
        {"fields": ["x;DROP"]},
    ],
)
def test_invalid_range_queries_are_refused(kwargs: dict) -> None:
    args = {
        "measurement": "bp",
        "tags": T,
        "start_ms": 0,
        "end_ms": 10,
        "fields": None,
        "every_ms": None,
        "agg": "mean",
        "limit": None,
        "descending": False,
        **kwargs,
    }
    with pytest.raises(ValueError):
        RangeQuery.build(**args)


def test_known_names_still_get_their_values_checked() -> None:
    # The first point proves the names; later points take the fast path and must still refuse.
    from cloud_api.tsdb.base import FieldValue
    from cloud_api.tsdb.base import SeriesPoint as P

    P("fastm", {"tg": "ok"}, {"f": 1.0, "s": "x", "i": 1, "b": True}, 1)
    cases: list[tuple[dict[str, str], dict[str, FieldValue], str]] = [
        ({"tg": "a\\b"}, {"f": 1.0}, "backslashes"),
        ({"tg": ""}, {"f": 1.0}, "non-empty"),
        ({"tg": "x" * 300}, {"f": 1.0}, "longer than"),
        ({"tg": "ok"}, {"f": float("nan")}, "not finite"),
        ({"tg": "ok"}, {"i": 2**63}, "64-bit"),
        ({"tg": "ok"}, {"s": "x" * (64 * 1024 + 1)}, "64 KiB"),
        ({"tg": "ok"}, {}, "at least one field"),
        ({"tg": "ok"}, {"tg": 1.0}, "both tag and field"),
    ]
    for tags, fields, reason in cases:
        with pytest.raises(ValueError, match=reason):
            P("fastm", tags, fields, 1)
    with pytest.raises(ValueError, match="time_ms"):
        P("fastm", {"tg": "ok"}, {"f": 1.0}, True)
