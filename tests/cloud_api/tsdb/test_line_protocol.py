"""Line protocol as the adapter writes it (influxdb-client's ``Point``): escaping, types, ms."""

from __future__ import annotations

from cloud_api.tsdb.base import SeriesPoint
from cloud_api.tsdb.line_protocol import to_line


def test_escapes_tags_and_strings() -> None:
    point = SeriesPoint("bp", {"patient": "a b,c=d", "device": "x"},
                        {"note": 'say "hi" \\ bye', "n": 3, "ok": False, "f": 2.0}, 1234)
    assert to_line(point) == (
        'bp,device=x,patient=a\\ b\\,c\\=d f=2,n=3i,note="say \\"hi\\" \\\\ bye",ok=false 1234'
    )


def test_tags_and_fields_sorted_floats_trimmed_non_finite_never_reach_it() -> None:
    point = SeriesPoint("m", {"z": "1", "a": "2"}, {"y": 1.5, "b": 10**15, "c": True}, 0)
    assert to_line(point) == "m,a=2,z=1 b=1000000000000000i,c=true,y=1.5 0"
