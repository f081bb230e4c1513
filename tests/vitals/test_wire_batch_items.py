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
