"""The fast line-protocol path is byte-identical to influxdb-client's ``Point``."""

from __future__ import annotations

import warnings

from hypothesis import given, settings
from hypothesis import strategies as st

from cloud_api.tsdb.base import FieldValue, SeriesPoint
from cloud_api.tsdb.line_protocol import to_line, to_line_reference

NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,10}", fullmatch=True).filter(lambda n: n != "time")
# Tag values: anything a SeriesPoint accepts, biased towards what line protocol escapes.
TAG_VALUES = st.text(
    alphabet=st.one_of(st.sampled_from([*",= \"'#é", "\u2028"]), st.characters(
        blacklist_categories=("Cc", "Cs"), blacklist_characters="\\")),
    min_size=1, max_size=20,
)
FIELD_VALUES: st.SearchStrategy[FieldValue] = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 1.0, 1e16, 1e-7, 123456789012345678.0, 5e-324]),
    st.text(max_size=30),
    st.text(alphabet='"\\ ,=\n\t\r x', max_size=10),
)


@st.composite
def points(draw: st.DrawFn) -> SeriesPoint:
    tags = draw(st.dictionaries(NAMES, TAG_VALUES, max_size=4))
    fields = draw(st.dictionaries(NAMES.filter(lambda n: n not in tags), FIELD_VALUES,
                                  min_size=1, max_size=6))
    time_ms = draw(st.integers(min_value=0, max_value=9_223_372_036_853))
    return SeriesPoint(draw(NAMES), tags, fields, time_ms)


@settings(max_examples=200, deadline=None)
@given(points())
def test_fast_path_matches_point(point: SeriesPoint) -> None:
    assert to_line(point) == to_line_reference(point)


def test_escapes_like_point() -> None:
    point = SeriesPoint("bp", {"patient": "a b,c=d", "device": "x"},
                        {"note": 'say "hi" \\ bye', "n": 3, "ok": False, "f": 2.0}, 1234)
    line = to_line(point)
    assert line == (
        'bp,device=x,patient=a\\ b\\,c\\=d f=2,n=3i,note="say \\"hi\\" \\\\ bye",ok=false 1234'
    )
    assert line == to_line_reference(point)


def test_other_types_take_the_reference_path() -> None:
    class Count(int):
        def __str__(self) -> str:  # a subclass may print differently; the reference decides
            return "seven"

    point = SeriesPoint("m", {"t": "v"}, {"c": Count(7)}, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert to_line(point) == to_line_reference(point) == "m,t=v c=seveni 1"
