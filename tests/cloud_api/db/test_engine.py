"""JSON columns decode to exactly what the stdlib decoder gave (orjson with a fallback)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select

from cloud_api.db.engine import load_json, make_engine
from cloud_api.db.migrate import upgrade
from cloud_api.db.models import AuditRow


def test_load_json_matches_the_stdlib_and_falls_back_for_what_orjson_refuses() -> None:
    for text in ['{"a": [1, 2.5, -0.0, 1e-7, null, true], "é": "ü\\u00e9", "b": {}}',
                 '[18446744073709551616, -9223372036854775809]',  # beyond 64 bits
                 '{"x": NaN, "y": Infinity, "z": -Infinity}',
                 '"\\ud800"',  # a lone surrogate
                 '[1e400, 0.12345678901234567890123, 9223372036854775807]']:
        assert repr(load_json(text)) == repr(json.loads(text)), text
    assert math.isnan(load_json('{"x": NaN}')["x"])
    assert load_json(b'{"a": "\xc3\xbc", "n": 12}') == {"a": "ü", "n": 12}
    assert load_json("\"\ud800\"") == "\ud800"  # a str holding a lone surrogate


def test_engine_reads_json_columns_through_load_json(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'j.db'}")
    upgrade(engine)
    detail = {"count": 3, "nan": float("nan"), "big": 2**70, "text": "Zoë"}
    with engine.begin() as conn:
        conn.execute(insert(AuditRow), [{"at": datetime.now(UTC), "actor": "t",
                                         "action": "x", "detail": detail}])
    with engine.connect() as conn:
        got = conn.execute(select(AuditRow.detail)).scalar_one()
    engine.dispose()
    assert got["count"] == 3 and got["big"] == 2**70 and got["text"] == "Zoë"
    assert math.isnan(got["nan"])
