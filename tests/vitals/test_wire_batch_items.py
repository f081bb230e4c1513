"""wire.decode_batch_items: strict envelope, lenient items."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from vitals.ids import new_msg_id
from vitals.readings import BloodPressure, DeviceRef
from vitals.wire import ReadingsBatch, WireError, decode_batch_items, encode

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def reading(systolic: float = 120) -> BloodPressure:
    return BloodPressure(msg_id=new_msg_id(), patient="p-1", device=DeviceRef(make="A", model="B"),
                         measured_at=T0, simulated=True, systolic=systolic, diastolic=80)


def test_good_and_bad_items_are_separated() -> None:
    good = reading()
    message = json.loads(encode(ReadingsBatch(gateway="gw", sent_at=T0, items=(good, reading()))))
    message["items"][1]["diastolic"] = "high"
    message["items"].append({"msg_id": 42})
    decoded = decode_batch_items(json.dumps(message))
    assert decoded.type == "readings" and decoded.gateway == "gw" and decoded.sent_at == T0
    assert decoded.good == (good,)
    assert [b.index for b in decoded.bad] == [1, 2]
    assert "items.1" in decoded.bad[0].reason and "diastolic" in decoded.bad[0].reason
    assert json.loads(decoded.bad[0].raw)["diastolic"] == "high"
    assert decoded.bad[0].msg_id == message["items"][1]["msg_id"]
    assert decoded.bad[1].msg_id is None  # not a string: cannot be acked


@pytest.mark.parametrize("payload", [
    b"not json", b"{}", b'{"v":2,"type":"readings","gateway":"g","sent_at":"2026-11-25T08:00:00Z",'
    b'"items":[{}]}', b'{"v":1,"type":"ack","msg_ids":["x"]}',
    b'{"v":1,"type":"readings","gateway":"g","sent_at":"2026-11-25T08:00:00Z","items":[]}',
])
def test_unusable_envelope_raises(payload: bytes) -> None:
    with pytest.raises(WireError):
        decode_batch_items(payload)


# Each item is mutated in a way JSON and Python validation might treat differently; the
# one-pass fast path must agree with the item-by-item path on every one.
MUTATIONS: list[tuple[str, object]] = [
    ("systolic", "121.5"), ("systolic", 121), ("systolic", True), ("systolic", None),
    ("systolic", "NaN"), ("diastolic", [80]), ("pulse", "70"), ("kind", "glucose"),
    ("measured_at", 1764057600), ("measured_at", "2026-11-25T08:00:00"),
    ("measured_at", "2026-11-25T09:00:00+01:00"), ("status", ["irregular_pulse"]),
    ("status", "irregular_pulse"), ("simulated", "true"), ("simulated", 1), ("patient", 5),
    ("seq", "3"), ("seq", 3.0), ("seq", 3.5), ("device", {"make": "A"}), ("extra", 1),
]


@pytest.mark.parametrize(("key", "value"), MUTATIONS)
def test_fast_path_agrees_with_item_by_item(key: str, value: object) -> None:
    from vitals.wire import _decode_item_by_item

    message = json.loads(encode(ReadingsBatch(gateway="gw", sent_at=T0, items=(reading(),))))
    message["items"][0][key] = value
    payload = json.dumps(message)
    assert decode_batch_items(payload) == _decode_item_by_item(payload)
