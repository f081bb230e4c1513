import contextlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vitals import (
    Alert,
    AlertInput,
    BloodPressure,
    BpStatus,
    DeviceRef,
    EcgStrip,
    Glucose,
    GlucoseSampleType,
    HeartRate,
    MealContext,
    RangeFlag,
    Severity,
    SpO2,
    new_msg_id,
    wire,
)
from vitals.readings import BodyWeight
from vitals.units import GlucoseUnit, MassUnit
from vitals.wire import Ack, AlertsBatch, ReadingsBatch, WireError

NOW = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)
CUFF = DeviceRef(make="A&D", model="UA-651BLE", address="00:11:22:33:44:55")


def bp(**kw: object) -> BloodPressure:
    base: dict[str, object] = dict(
        msg_id=new_msg_id(),
        patient="pt-7f3a",
        device=CUFF,
        measured_at=NOW,
        simulated=True,
        systolic=182.0,
        diastolic=111.0,
        pulse=88.0,
    )
    base.update(kw)
    return BloodPressure(**base)  # type: ignore[arg-type]


def every_kind() -> list[object]:
    common = dict(patient="pt-7f3a", device=CUFF, measured_at=NOW, simulated=True)
    return [
        bp(
            status=frozenset({BpStatus.IRREGULAR_PULSE}),
            user_id=1,
            device_time="2026-11-25T08:29:58",
        ),
        Glucose(
            msg_id=new_msg_id(),
            mg_dl=50.4,
            value_received=2.8,
            unit_received=GlucoseUnit.MMOL_L,
            sample_type=GlucoseSampleType.CAPILLARY_PLASMA,
            meal=MealContext.FASTING,
            seq=17,
            **common,
        ),
        Glucose(
            msg_id=new_msg_id(),
            mg_dl=20,
            value_received=20,
            unit_received=GlucoseUnit.MG_DL,
            range_flag=RangeFlag.LOW,
            **common,
        ),
        HeartRate(msg_id=new_msg_id(), bpm=61, rr_intervals_s=(0.98, 1.01), **common),
        EcgStrip(msg_id=new_msg_id(), fs_hz=130, start=NOW, samples_uv=(0, 15, -20, 900), **common),
        SpO2(msg_id=new_msg_id(), spo2_pct=97, pulse=64, **common),
        BodyWeight(
            msg_id=new_msg_id(), kg=80.0, value_received=176.4, unit_received=MassUnit.LB, **common
        ),
    ]


def test_every_reading_kind_round_trips_in_one_batch() -> None:
    batch = ReadingsBatch(gateway="gw-1", sent_at=NOW, items=tuple(every_kind()))  # type: ignore[arg-type]
    decoded = wire.decode(wire.encode(batch))
    assert decoded == batch
    assert [item.kind for item in decoded.items] == [i.kind for i in batch.items]  # type: ignore[union-attr]


def test_alert_batch_round_trips_and_severity_orders() -> None:
    reading = bp()
    alert = Alert(
        alert_id=new_msg_id(),
        msg_id=new_msg_id(),
        patient="pt-7f3a",
        rule_id="bp.severe",
        rule_version="2026.1",
        severity=Severity.URGENT,
        title="Severe blood pressure",
        explanation="Two readings ≥ 180/110 mmHg within 5 minutes.",
        inputs=(
            AlertInput(
                msg_id=reading.msg_id,
                observable="systolic",
                value=182,
                unit="mmHg",
                measured_at=NOW,
            ),
        ),
        thresholds={"systolic": 180, "diastolic": 110},
        source="ESC/ESH 2024; China 2018",
        raised_at=NOW,
        updated_at=NOW,
        simulated=True,
    )
    batch = AlertsBatch(gateway="gw-1", sent_at=NOW, items=(alert,))
    assert wire.decode(wire.encode(batch)) == batch
    assert Severity.URGENT > Severity.WARNING > Severity.INFO


def test_times_are_normalised_to_utc() -> None:
    local = NOW.astimezone(timezone(timedelta(hours=8)))
    assert bp(measured_at=local).measured_at == NOW
    assert bp(measured_at=local).measured_at.tzinfo == UTC


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"not json", "Invalid JSON"),
        (b"{}", "Unable to extract tag using discriminator"),
        (b'{"v": 2, "type": "ack", "msg_ids": ["x"]}', "v: Input should be 1"),
        (b'{"v": 1, "type": "nope"}', "does not match any of the expected tags"),
        (b'{"v": 1, "type": "ack", "msg_ids": []}', "at least 1 item"),
    ],
)
def test_malformed_messages_raise_wire_error_with_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(WireError) as info:
        wire.decode(payload)
    assert reason in info.value.reason


def test_naive_time_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone"):
        bp(measured_at=datetime(2026, 1, 1))


def test_bad_msg_id_is_rejected() -> None:
    with pytest.raises(ValueError, match="ULID"):
        bp(msg_id="reading-1")


def test_implausible_values_are_rejected() -> None:
    with pytest.raises(ValueError):
        bp(systolic=-5)
    with pytest.raises(ValueError):
        bp(systolic=float("nan"))


def test_oversized_payload_rejected_before_parsing() -> None:
    with pytest.raises(WireError, match="exceeds"):
        wire.decode(b" " * (wire.MAX_PAYLOAD_BYTES + 1))


def test_unknown_fields_are_rejected_not_ignored() -> None:
    raw = wire.encode(ReadingsBatch(gateway="g", sent_at=NOW, items=(bp(),)))
    tampered = raw.replace(b'"systolic"', b'"extra":1,"systolic"')
    with pytest.raises(WireError, match="extra"):
        wire.decode(tampered)


@given(st.lists(st.builds(new_msg_id), min_size=1, max_size=50))
def test_ack_round_trip(ids: list[str]) -> None:
    ack = Ack(msg_ids=tuple(ids))
    assert wire.decode(wire.encode(ack)) == ack


@given(st.binary(max_size=300))
def test_decode_never_raises_anything_but_wire_error(blob: bytes) -> None:
    with contextlib.suppress(WireError):
        wire.decode(blob)
