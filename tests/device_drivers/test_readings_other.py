import datetime as dt

import pytest

from device_drivers.codecs.bp import decode_bp_measurement
from device_drivers.codecs.date_time import DateTime
from device_drivers.codecs.glucose import GlucoseContext, decode_glucose_measurement
from device_drivers.codecs.heart_rate import HeartRateMeasurement, SensorContact, decode_heart_rate
from device_drivers.codecs.numbers import MderFloat, MderSpecial
from device_drivers.codecs.plx import (
    PlxContinuous,
    PlxDeviceStatus,
    PlxMeasurementStatus,
    PlxSpotCheck,
)
from device_drivers.codecs.racp import report_all
from device_drivers.codecs.weight import WeightMeasurement
from device_drivers.errors import MappingError
from device_drivers.readings import to_reading
from vitals.ids import new_msg_id
from vitals.readings import (
    BloodPressure,
    BodyWeight,
    DeviceRef,
    Glucose,
    HeartRate,
    ReadingKind,
    SpO2,
)
from vitals.units import MassUnit

RECEIVED = dt.datetime(2024, 5, 17, 7, 0, 0, tzinfo=dt.UTC)
DEVICE = DeviceRef(make="Polar", model="H10")
OFFSET = dt.timedelta(hours=-2)


def _map(value: object, **kw: object):  # type: ignore[no-untyped-def]
    args: dict[str, object] = dict(
        msg_id=new_msg_id(), patient="p-3", device=DEVICE, received_at=RECEIVED, simulated=True,
        clock_offset=OFFSET,
    )  # fmt: skip
    args.update(kw)
    return to_reading(value, **args)  # type: ignore[arg-type]


def test_dispatch_by_type() -> None:
    bp = _map(decode_bp_measurement(bytes.fromhex("167C0056006100E807060F11111B33000000")))
    assert isinstance(bp, BloodPressure) and bp.simulated
    assert bp.measured_at == dt.datetime(2024, 6, 15, 15, 17, 27, tzinfo=dt.UTC)
    gl = _map(
        decode_glucose_measurement(bytes.fromhex("1B0C00E5070B0F0C26283C000208F84000")),
        context=GlucoseContext(12, meal=2),
    )
    assert isinstance(gl, Glucose) and gl.kind is ReadingKind.GLUCOSE
    with pytest.raises(MappingError, match="RacpRequest"):
        _map(report_all())


def test_heart_rate_live() -> None:
    r = _map(decode_heart_rate(bytes.fromhex("16483903")))
    assert isinstance(r, HeartRate)
    assert r.bpm == 72 and r.sensor_contact is True
    assert r.rr_intervals_s == (825 / 1024,)
    assert r.measured_at == RECEIVED
    r2 = _map(HeartRateMeasurement(60, SensorContact.NOT_SUPPORTED, energy_expended_kj=5))
    assert r2.sensor_contact is None and r2.energy_expended_kj == 5


def test_spot_check_uses_device_time_unless_clock_not_set() -> None:
    m = PlxSpotCheck(
        MderFloat(97, 0), MderFloat(72, 0), DateTime(2024, 5, 17, 8, 30, 0),
        pulse_amplitude_index=MderFloat(45, -1),
    )  # fmt: skip
    r = _map(m)
    assert isinstance(r, SpO2)
    assert (r.spo2_pct, r.pulse, r.perfusion_index) == (97, 72, 4.5)
    assert r.measured_at == dt.datetime(2024, 5, 17, 6, 30, tzinfo=dt.UTC)
    unset = PlxSpotCheck(
        MderFloat(97, 0), MderSpecial.NAN, DateTime(2000, 1, 1, 0, 0, 0), clock_not_set=True
    )
    r2 = _map(unset)
    assert r2.measured_at == RECEIVED and r2.pulse is None


@pytest.mark.parametrize(
    "m",
    [
        PlxContinuous(MderSpecial.NAN, MderFloat(70, 0)),
        PlxContinuous(MderFloat(97, 0), MderFloat(70, 0),
                      measurement_status=PlxMeasurementStatus.INVALID_MEASUREMENT),
        PlxContinuous(MderFloat(97, 0), MderFloat(70, 0),
                      measurement_status=PlxMeasurementStatus.DATA_FOR_DEMONSTRATION),
        PlxContinuous(MderFloat(97, 0), MderFloat(70, 0),
                      device_status=PlxDeviceStatus.SENSOR_DISCONNECTED),
        PlxContinuous(MderFloat(101, 0), MderFloat(70, 0)),
    ],
)  # fmt: skip
def test_spo2_refused(m: PlxContinuous) -> None:
    with pytest.raises(MappingError):
        _map(m)


def test_continuous_is_live() -> None:
    r = _map(PlxContinuous(MderFloat(95, 0), MderFloat(80, 0)))
    assert r.spo2_pct == 95 and r.measured_at == RECEIVED


def test_weight_si_and_imperial() -> None:
    r = _map(WeightMeasurement(False, 14470, DateTime(2024, 5, 17, 8, 30, 0), 2, 236, 1750))
    assert isinstance(r, BodyWeight)
    assert r.kg == pytest.approx(72.35) and r.unit_received is MassUnit.KG
    assert r.bmi == pytest.approx(23.6) and r.height_m == pytest.approx(1.75)
    assert r.user_id == 2
    lb = _map(WeightMeasurement(True, 15962, bmi_raw=236, height_raw=700, user_id=0xFF))
    assert lb.value_received == pytest.approx(159.62) and lb.unit_received is MassUnit.LB
    assert lb.kg == pytest.approx(72.40, abs=0.01)
    assert lb.height_m == pytest.approx(1.778) and lb.user_id is None


def test_weight_unsuccessful() -> None:
    with pytest.raises(MappingError, match="unsuccessful"):
        _map(WeightMeasurement(False, 0xFFFF))
