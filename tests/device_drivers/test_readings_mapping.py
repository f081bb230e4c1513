import datetime as dt

import pytest

from device_drivers.codecs.bp import (
    BloodPressureMeasurement,
    BpMeasurementStatus,
    decode_bp_measurement,
    decode_intermediate_cuff_pressure,
)
from device_drivers.codecs.date_time import DateTime
from device_drivers.codecs.numbers import MderFloat, MderSpecial
from device_drivers.errors import MappingError
from device_drivers.quirks import quirks_for
from device_drivers.readings import bp_to_reading, clock_offset, measured_at
from vitals.ids import new_msg_id
from vitals.readings import BpStatus, DeviceRef
from vitals.units import PressureUnit

RECEIVED = dt.datetime(2026, 8, 11, 16, 35, 0, tzinfo=dt.UTC)
DEVICE = DeviceRef(make="Beurer", model="BM85", address="AA:BB:CC:DD:EE:FF")


def _map(m: BloodPressureMeasurement, **kw: object):  # type: ignore[no-untyped-def]
    args: dict[str, object] = dict(
        msg_id=new_msg_id(), patient="p-1", device=DEVICE, received_at=RECEIVED, simulated=False
    )
    args.update(kw)
    return bp_to_reading(m, **args)  # type: ignore[arg-type]


def test_bm85_real_record_to_domain() -> None:
    payload = bytes.fromhex("566A0047000000EA07080B121F00003F000000")
    m = decode_bp_measurement(payload, quirks_for("Beurer", "BM85"))
    # cuff clock is CEST (UTC+2) and 40 s fast
    offset = dt.timedelta(hours=-2, seconds=-40)
    r = _map(m, clock_offset=offset)
    assert (r.systolic, r.diastolic, r.pulse) == (106, 71, 63)
    assert r.mean_arterial is None  # BM85 MAP 0 = not measured
    assert r.user_id == 0
    assert r.measured_at == dt.datetime(2026, 8, 11, 16, 30, 20, tzinfo=dt.UTC)
    assert r.device_time == "2026-08-11T18:31:00"
    assert r.unit_received is PressureUnit.MMHG and r.status == frozenset()


def test_kpa_converted_unit_kept_and_status_mapped() -> None:
    m = decode_bp_measurement(bytes.fromhex("15BDF00B009FF03C001200"))
    r = _map(m)
    assert r.systolic == pytest.approx(141.76, abs=0.01)  # 18.9 kPa
    assert r.diastolic == pytest.approx(82.51, abs=0.01)
    assert r.unit_received is PressureUnit.KPA
    assert r.status == {BpStatus.CUFF_TOO_LOOSE, BpStatus.PULSE_RATE_LOW}
    assert r.measured_at == RECEIVED  # no time stamp in the record
    assert r.device_time is None


def test_all_status_bits() -> None:
    m = decode_bp_measurement(
        bytes.fromhex("1E8A005800780000000411142 93B3C00012700".replace(" ", ""))
    )
    r = _map(m)
    assert r.status == {
        BpStatus.BODY_MOVEMENT,
        BpStatus.CUFF_TOO_LOOSE,
        BpStatus.IRREGULAR_PULSE,
        BpStatus.IMPROPER_POSITION,
    }
    assert r.measured_at == RECEIVED  # year unknown -> receive time
    assert r.device_time == "0000-04-17T20:41:59"
    high = BloodPressureMeasurement(
        PressureUnit.MMHG, MderFloat(120, 0), MderFloat(80, 0), MderFloat(93, 0),
        status=BpMeasurementStatus(0x0008),
    )  # fmt: skip
    assert _map(high).status == {BpStatus.PULSE_RATE_HIGH}


def test_unknown_user_is_none() -> None:
    m = BloodPressureMeasurement(
        PressureUnit.MMHG, MderFloat(120, 0), MderFloat(80, 0), MderFloat(93, 0), user_id=0xFF
    )
    assert _map(m).user_id is None


@pytest.mark.parametrize(
    "special", [MderSpecial.NAN, MderSpecial.NRES, MderSpecial.POSITIVE_INFINITY]
)
def test_special_systolic_is_not_a_reading(special: MderSpecial) -> None:
    m = BloodPressureMeasurement(PressureUnit.MMHG, special, MderFloat(80, 0), MderFloat(93, 0))
    with pytest.raises(MappingError, match="systolic"):
        _map(m)


def test_special_pulse_becomes_none() -> None:
    m = BloodPressureMeasurement(
        PressureUnit.MMHG, MderFloat(120, 0), MderFloat(80, 0), MderSpecial.NAN,
        pulse_rate=MderSpecial.NAN,
    )  # fmt: skip
    r = _map(m)
    assert r.pulse is None and r.mean_arterial is None


def test_intermediate_cuff_pressure_is_refused() -> None:
    icp = decode_intermediate_cuff_pressure(bytes.fromhex("1E9C00FF07FF07E30708090D1835FF07001000"))
    with pytest.raises(MappingError, match="intermediate"):
        _map(icp)


def test_out_of_bounds_is_mapping_error() -> None:
    m = BloodPressureMeasurement(
        PressureUnit.MMHG, MderFloat(5, 2), MderFloat(80, 0), MderFloat(93, 0)
    )
    with pytest.raises(MappingError, match="systolic"):
        _map(m)  # 500 mmHg


def test_clock_offset_and_measured_at_rule() -> None:
    device_now = DateTime(2026, 8, 11, 18, 35, 40)
    offset = clock_offset(device_now, RECEIVED)
    assert offset == dt.timedelta(hours=-2, seconds=-40)
    assert measured_at(
        DateTime(2026, 8, 11, 18, 31, 0), received_at=RECEIVED, clock_offset=offset
    ) == (dt.datetime(2026, 8, 11, 16, 30, 20, tzinfo=dt.UTC))
    tz = dt.timezone(dt.timedelta(hours=8))
    assert measured_at(DateTime(2026, 8, 11, 8, 0, 0), received_at=RECEIVED, device_tz=tz) == (
        dt.datetime(2026, 8, 11, 0, 0, tzinfo=dt.UTC)
    )
    assert measured_at(None, received_at=RECEIVED) == RECEIVED
    with pytest.raises(ValueError):
        clock_offset(DateTime(0, 1, 1, 0, 0, 0), RECEIVED)
