"""Typed domain values for every vital HomeRPM handles.

One model per vital kind, all sharing :class:`ReadingBase` (identity, provenance and
time). Canonical units are fixed per field (mmHg, mg/dL, kg, bpm, seconds); the value
and unit *as received from the device* are kept beside them. ``Reading`` is the tagged
union of all kinds, discriminated by ``kind``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from vitals.ids import is_msg_id
from vitals.units import GlucoseUnit, MassUnit, PressureUnit


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must carry a timezone (UTC)")
    return value.astimezone(UTC)


#: A timezone-aware instant, normalised to UTC.
UtcDatetime = Annotated[datetime, AfterValidator(_utc)]


class Frozen(BaseModel):
    """Base for immutable, strictly-shaped domain values."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ReadingKind(StrEnum):
    BLOOD_PRESSURE = "blood_pressure"
    GLUCOSE = "glucose"
    HEART_RATE = "heart_rate"
    ECG = "ecg"
    SPO2 = "spo2"
    BODY_WEIGHT = "body_weight"


class DeviceRef(Frozen):
    """Which physical (or simulated) device took a reading."""

    make: str = Field(min_length=1, max_length=64)
    model: str = Field(min_length=1, max_length=64)
    address: str | None = Field(default=None, max_length=64, description="BLE address")
    serial: str | None = Field(default=None, max_length=64)
    firmware: str | None = Field(default=None, max_length=64)

    @property
    def key(self) -> str:
        """Stable identity of the device (serial preferred, else address, else make/model)."""
        return self.serial or self.address or f"{self.make}/{self.model}"


class ReadingBase(Frozen):
    msg_id: str = Field(description="ULID minted when the reading was captured")
    patient: str = Field(min_length=1, max_length=64, description="patient pseudonym")
    device: DeviceRef
    measured_at: UtcDatetime = Field(description="measurement time, UTC, corrected for skew")
    device_time: str | None = Field(
        default=None, max_length=64, description="raw device clock value as received"
    )
    received_at: UtcDatetime | None = Field(default=None, description="gateway capture time")
    simulated: bool
    seq: int | None = Field(
        default=None, ge=0, description="device record sequence number (e.g. a glucose meter's)"
    )

    @field_validator("msg_id")
    @classmethod
    def _check_msg_id(cls, value: str) -> str:
        if not is_msg_id(value):
            raise ValueError("msg_id must be a 26-character ULID")
        return value


class BpStatus(StrEnum):
    """Measurement-status flags of the Blood Pressure Measurement characteristic."""

    BODY_MOVEMENT = "body_movement"
    CUFF_TOO_LOOSE = "cuff_too_loose"
    IRREGULAR_PULSE = "irregular_pulse"
    PULSE_RATE_HIGH = "pulse_rate_high"
    PULSE_RATE_LOW = "pulse_rate_low"
    IMPROPER_POSITION = "improper_position"


class BloodPressure(ReadingBase):
    kind: Literal[ReadingKind.BLOOD_PRESSURE] = ReadingKind.BLOOD_PRESSURE
    systolic: float = Field(gt=0, lt=400, description="mmHg")
    diastolic: float = Field(gt=0, lt=300, description="mmHg")
    mean_arterial: float | None = Field(default=None, gt=0, lt=350, description="mmHg")
    pulse: float | None = Field(default=None, gt=0, lt=400, description="beats/min")
    unit_received: PressureUnit = PressureUnit.MMHG
    status: frozenset[BpStatus] = frozenset()
    user_id: int | None = Field(default=None, ge=0, le=255)


class GlucoseSampleType(StrEnum):
    CAPILLARY_WHOLE_BLOOD = "capillary_whole_blood"
    CAPILLARY_PLASMA = "capillary_plasma"
    VENOUS_WHOLE_BLOOD = "venous_whole_blood"
    VENOUS_PLASMA = "venous_plasma"
    ARTERIAL_WHOLE_BLOOD = "arterial_whole_blood"
    ARTERIAL_PLASMA = "arterial_plasma"
    UNDETERMINED_WHOLE_BLOOD = "undetermined_whole_blood"
    UNDETERMINED_PLASMA = "undetermined_plasma"
    INTERSTITIAL_FLUID = "interstitial_fluid"
    CONTROL_SOLUTION = "control_solution"


class GlucoseLocation(StrEnum):
    FINGER = "finger"
    ALTERNATE_SITE = "alternate_site"
    EARLOBE = "earlobe"
    CONTROL_SOLUTION = "control_solution"
    NOT_AVAILABLE = "not_available"


class MealContext(StrEnum):
    PREPRANDIAL = "preprandial"
    POSTPRANDIAL = "postprandial"
    FASTING = "fasting"
    CASUAL = "casual"
    BEDTIME = "bedtime"


class RangeFlag(StrEnum):
    """The meter said the value is beyond what it can measure (shown as LO / HI)."""

    LOW = "low"
    HIGH = "high"


class Glucose(ReadingBase):
    kind: Literal[ReadingKind.GLUCOSE] = ReadingKind.GLUCOSE
    mg_dl: float = Field(gt=0, lt=2000, description="canonical mg/dL")
    value_received: float = Field(gt=0)
    unit_received: GlucoseUnit
    sample_type: GlucoseSampleType | None = None
    sample_location: GlucoseLocation | None = None
    meal: MealContext | None = None
    range_flag: RangeFlag | None = Field(
        default=None, description="LO/HI: mg_dl is the meter's limit, not a measurement"
    )
    control_solution: bool = False


class HeartRate(ReadingBase):
    kind: Literal[ReadingKind.HEART_RATE] = ReadingKind.HEART_RATE
    bpm: float = Field(ge=0, lt=400)
    rr_intervals_s: tuple[float, ...] = Field(default=(), description="RR intervals, seconds")
    sensor_contact: bool | None = None
    energy_expended_kj: int | None = Field(default=None, ge=0)


class EcgStrip(ReadingBase):
    """A chunk of single-lead ECG. ``samples_uv`` are integer microvolts."""

    kind: Literal[ReadingKind.ECG] = ReadingKind.ECG
    fs_hz: float = Field(gt=0, le=10_000)
    lead: str = Field(default="I", max_length=16)
    start: UtcDatetime
    samples_uv: tuple[int, ...] = Field(max_length=600_000)
    gaps: tuple[tuple[int, int], ...] = Field(
        default=(), description="(first missing sample index, count) of frames lost on the air"
    )

    @property
    def duration_s(self) -> float:
        return len(self.samples_uv) / self.fs_hz


class SpO2(ReadingBase):
    kind: Literal[ReadingKind.SPO2] = ReadingKind.SPO2
    spo2_pct: float = Field(ge=0, le=100)
    pulse: float | None = Field(default=None, ge=0, lt=400)
    perfusion_index: float | None = Field(default=None, ge=0)


class BodyWeight(ReadingBase):
    kind: Literal[ReadingKind.BODY_WEIGHT] = ReadingKind.BODY_WEIGHT
    kg: float = Field(gt=0, lt=700)
    value_received: float = Field(gt=0)
    unit_received: MassUnit = MassUnit.KG
    bmi: float | None = Field(default=None, gt=0, lt=200)
    height_m: float | None = Field(default=None, gt=0, lt=3)
    user_id: int | None = Field(default=None, ge=0, le=255)


Reading = Annotated[
    BloodPressure | Glucose | HeartRate | EcgStrip | SpO2 | BodyWeight,
    Field(discriminator="kind"),
]


def now_utc() -> datetime:
    return datetime.now(UTC)
