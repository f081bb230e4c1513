"""Glucose service 0x1808: Measurement 0x2A18, Measurement Context 0x2A34, Feature 0x2A51.

0x2A18: ``flags u8 | sequence u16 | base time (Date Time) | [time offset s16 min] (bit0) |
[concentration SFLOAT + type/location u8] (bit1; unit mol/L if bit2 else kg/L) |
[sensor status annunciation u16] (bit3)``; bit4 = a 0x2A34 with the same sequence follows.
Type/location byte: low nibble = sample type, high nibble = location.

LO/HI readings arrive as -INF/+INF concentrations and/or status bits 6/5; both stay
visible here (the mapping turns them into ``range_flag``), never a plain number.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum, IntFlag

from device_drivers.codecs._binary import Reader, Writer, cached_flags
from device_drivers.codecs.date_time import DateTime, read_date_time, write_date_time
from device_drivers.codecs.numbers import Mder, MderFloat, sfloat
from device_drivers.quirks import NO_QUIRKS, Quirks
from device_drivers.uuids import GLUCOSE_FEATURE, GLUCOSE_MEASUREMENT, GLUCOSE_MEASUREMENT_CONTEXT


class GlucoseFlag:
    """Flags bits (plain ints: enum arithmetic is too slow for the decode hot path)."""

    TIME_OFFSET = 0x01
    CONCENTRATION = 0x02
    MOL_PER_L = 0x04
    SENSOR_STATUS = 0x08
    CONTEXT_FOLLOWS = 0x10


class GlucoseType(IntEnum):
    CAPILLARY_WHOLE_BLOOD = 1
    CAPILLARY_PLASMA = 2
    VENOUS_WHOLE_BLOOD = 3
    VENOUS_PLASMA = 4
    ARTERIAL_WHOLE_BLOOD = 5
    ARTERIAL_PLASMA = 6
    UNDETERMINED_WHOLE_BLOOD = 7
    UNDETERMINED_PLASMA = 8
    INTERSTITIAL_FLUID = 9
    CONTROL_SOLUTION = 10


class GlucoseLocation(IntEnum):
    FINGER = 1
    ALTERNATE_SITE_TEST = 2
    EARLOBE = 3
    CONTROL_SOLUTION = 4
    NOT_AVAILABLE = 15


class SensorStatus(IntFlag):
    """Sensor Status Annunciation (unknown bits are kept)."""

    BATTERY_LOW = 1 << 0
    SENSOR_MALFUNCTION = 1 << 1
    SAMPLE_SIZE_INSUFFICIENT = 1 << 2
    STRIP_INSERTION_ERROR = 1 << 3
    STRIP_TYPE_INCORRECT = 1 << 4
    RESULT_TOO_HIGH = 1 << 5  # "higher than the device can process" (HI)
    RESULT_TOO_LOW = 1 << 6  # "lower than the device can process" (LO)
    TEMPERATURE_TOO_HIGH = 1 << 7
    TEMPERATURE_TOO_LOW = 1 << 8
    READ_INTERRUPTED = 1 << 9
    GENERAL_DEVICE_FAULT = 1 << 10
    TIME_FAULT = 1 << 11


_sensor_status = cached_flags(SensorStatus)


def concentration_from_mg_dl(mg_dl: float | str, decimals: int = 0) -> MderFloat:
    """The kg/L SFLOAT a meter sends for ``mg_dl`` (``103`` -> 103e-5 kg/L)."""
    value = MderFloat.of(mg_dl, decimals)
    return sfloat(Decimal(value.mantissa).scaleb(value.exponent - 5), decimals + 5)


def concentration_from_mmol_l(mmol_l: float | str, decimals: int = 1) -> MderFloat:
    """The mol/L SFLOAT a meter sends for ``mmol_l`` (``5.5`` -> 55e-4 mol/L)."""
    value = MderFloat.of(mmol_l, decimals)
    return sfloat(Decimal(value.mantissa).scaleb(value.exponent - 3), decimals + 3)


def concentration_display(m: GlucoseMeasurement) -> Decimal | None:
    """mg/dL (kg/L records) or mmol/L (mol/L records) as exact decimal; None if absent
    or a special value."""
    if not isinstance(m.concentration, MderFloat):
        return None
    return m.concentration.as_decimal().scaleb(3 if m.mol_per_l else 5)


@dataclass(frozen=True, slots=True)
class GlucoseMeasurement:
    """One Glucose Measurement record (0x2A18) as received.

    ``concentration`` is in kg/L (``mol_per_l`` False) or mol/L, exactly as sent;
    ``sample_type``/``sample_location`` are the raw nibbles (see :class:`GlucoseType`).
    ``flags`` is the byte as received; the encoder copies only its reserved bits 5-7 from
    it — presence and unit bits follow the fields.
    """

    sequence: int
    base_time: DateTime
    time_offset_min: int | None = None
    concentration: Mder | None = None
    mol_per_l: bool = False
    sample_type: int | None = None
    sample_location: int | None = None
    sensor_status: SensorStatus | None = None
    context_follows: bool = False
    flags: int = 0

    @property
    def type_enum(self) -> GlucoseType | None:
        try:
            return None if self.sample_type is None else GlucoseType(self.sample_type)
        except ValueError:
            return None

    @property
    def location_enum(self) -> GlucoseLocation | None:
        try:
            return None if self.sample_location is None else GlucoseLocation(self.sample_location)
        except ValueError:
            return None

    @property
    def is_control_solution(self) -> bool:
        return self.sample_type == GlucoseType.CONTROL_SOLUTION or (
            self.sample_location == GlucoseLocation.CONTROL_SOLUTION
        )


def decode_glucose_measurement(payload: bytes, quirks: Quirks = NO_QUIRKS) -> GlucoseMeasurement:
    """Decode Glucose Measurement 0x2A18; raises DecodeError."""
    r = Reader(GLUCOSE_MEASUREMENT, payload)
    flags = r.u8("flags")
    sequence = r.u16("sequence number")
    base_time = read_date_time(r, "base time")
    offset = r.s16("time offset") if flags & GlucoseFlag.TIME_OFFSET else None
    concentration = sample_type = location = None
    if flags & GlucoseFlag.CONCENTRATION:
        concentration = r.sfloat("glucose concentration")
        type_location = r.u8("type-sample location")
        sample_type, location = type_location & 0x0F, type_location >> 4
    status = _sensor_status(r.u16("sensor status")) if flags & GlucoseFlag.SENSOR_STATUS else None
    r.end()
    return GlucoseMeasurement(
        sequence=sequence,
        base_time=base_time,
        time_offset_min=offset,
        concentration=concentration,
        mol_per_l=bool(flags & GlucoseFlag.MOL_PER_L),
        sample_type=sample_type,
        sample_location=location,
        sensor_status=status,
        context_follows=bool(flags & GlucoseFlag.CONTEXT_FOLLOWS),
        flags=flags,
    )


def encode_glucose_measurement(m: GlucoseMeasurement, quirks: Quirks = NO_QUIRKS) -> bytes:
    """Encode Glucose Measurement 0x2A18 (inverse of the decoder); raises EncodeError."""
    w = Writer(GLUCOSE_MEASUREMENT)
    flags = m.flags & 0xE0
    flags |= GlucoseFlag.TIME_OFFSET if m.time_offset_min is not None else 0
    flags |= GlucoseFlag.MOL_PER_L if m.mol_per_l else 0
    flags |= GlucoseFlag.SENSOR_STATUS if m.sensor_status is not None else 0
    flags |= GlucoseFlag.CONTEXT_FOLLOWS if m.context_follows else 0
    has_conc = m.concentration is not None
    if has_conc != (m.sample_type is not None) or has_conc != (m.sample_location is not None):
        w.fail("concentration, sample_type and sample_location go together")
    flags |= GlucoseFlag.CONCENTRATION if has_conc else 0
    w.u8(flags, "flags")
    w.u16(m.sequence, "sequence number")
    write_date_time(w, m.base_time, "base time")
    if m.time_offset_min is not None:
        w.s16(m.time_offset_min, "time offset")
    if m.concentration is not None and m.sample_type is not None and m.sample_location is not None:
        if not (0 <= m.sample_type <= 15 and 0 <= m.sample_location <= 15):
            w.fail("sample type and location are 4-bit values")
        w.sfloat(m.concentration, "glucose concentration")
        w.u8(m.sample_location << 4 | m.sample_type, "type-sample location")
    if m.sensor_status is not None:
        w.u16(int(m.sensor_status), "sensor status")
    return w.bytes()


class ContextFlag:
    """Flags bits of 0x2A34 (plain ints)."""

    CARBOHYDRATE = 0x01
    MEAL = 0x02
    TESTER_HEALTH = 0x04
    EXERCISE = 0x08
    MEDICATION = 0x10
    MEDICATION_LITRES = 0x20
    HBA1C = 0x40
    EXTENDED_FLAGS = 0x80


class Meal(IntEnum):
    PREPRANDIAL = 1
    POSTPRANDIAL = 2
    FASTING = 3
    CASUAL = 4
    BEDTIME = 5


@dataclass(frozen=True, slots=True)
class GlucoseContext:
    """Glucose Measurement Context (0x2A34), values as received.

    Carbohydrate amount in kg, medication in kg or litres (``medication_litres``),
    HbA1c in %. Enumerations stay raw ints (see :class:`Meal`); ``meal_enum`` names them.
    """

    sequence: int
    extended_flags: int | None = None
    carbohydrate_id: int | None = None
    carbohydrate_kg: Mder | None = None
    meal: int | None = None
    tester: int | None = None
    health: int | None = None
    exercise_duration_s: int | None = None
    exercise_intensity_pct: int | None = None
    medication_id: int | None = None
    medication: Mder | None = None
    medication_litres: bool = False
    hba1c_pct: Mder | None = None

    @property
    def meal_enum(self) -> Meal | None:
        try:
            return None if self.meal is None else Meal(self.meal)
        except ValueError:
            return None


def decode_glucose_context(payload: bytes, quirks: Quirks = NO_QUIRKS) -> GlucoseContext:
    """Decode Glucose Measurement Context 0x2A34; raises DecodeError."""
    r = Reader(GLUCOSE_MEASUREMENT_CONTEXT, payload)
    flags = r.u8("flags")
    sequence = r.u16("sequence number")
    values: dict[str, object] = {"sequence": sequence}
    if flags & ContextFlag.EXTENDED_FLAGS:
        values["extended_flags"] = r.u8("extended flags")
    if flags & ContextFlag.CARBOHYDRATE:
        values["carbohydrate_id"] = r.u8("carbohydrate id")
        values["carbohydrate_kg"] = r.sfloat("carbohydrate")
    if flags & ContextFlag.MEAL:
        values["meal"] = r.u8("meal")
    if flags & ContextFlag.TESTER_HEALTH:
        tester_health = r.u8("tester-health")
        values["tester"], values["health"] = tester_health & 0x0F, tester_health >> 4
    if flags & ContextFlag.EXERCISE:
        values["exercise_duration_s"] = r.u16("exercise duration")
        values["exercise_intensity_pct"] = r.u8("exercise intensity")
    if flags & ContextFlag.MEDICATION:
        values["medication_id"] = r.u8("medication id")
        values["medication"] = r.sfloat("medication")
    elif flags & ContextFlag.MEDICATION_LITRES:
        r.fail("medication unit flag (bit5) set without medication (bit4)")
    values["medication_litres"] = bool(flags & ContextFlag.MEDICATION_LITRES)
    if flags & ContextFlag.HBA1C:
        values["hba1c_pct"] = r.sfloat("HbA1c")
    r.end()
    return GlucoseContext(**values)  # type: ignore[arg-type]


def encode_glucose_context(c: GlucoseContext, quirks: Quirks = NO_QUIRKS) -> bytes:
    """Encode Glucose Measurement Context 0x2A34; raises EncodeError."""
    w = Writer(GLUCOSE_MEASUREMENT_CONTEXT)

    def both(a: object, b: object, what: str) -> bool:
        if (a is None) != (b is None):
            w.fail(f"{what}: both values or neither")
        return a is not None

    carbs = both(c.carbohydrate_id, c.carbohydrate_kg, "carbohydrate")
    tester_health = both(c.tester, c.health, "tester-health")
    exercise = both(c.exercise_duration_s, c.exercise_intensity_pct, "exercise")
    medication = both(c.medication_id, c.medication, "medication")
    if c.medication_litres and not medication:
        w.fail("medication_litres without medication")
    flags = (
        (ContextFlag.CARBOHYDRATE if carbs else 0)
        | (ContextFlag.MEAL if c.meal is not None else 0)
        | (ContextFlag.TESTER_HEALTH if tester_health else 0)
        | (ContextFlag.EXERCISE if exercise else 0)
        | (ContextFlag.MEDICATION if medication else 0)
        | (ContextFlag.MEDICATION_LITRES if c.medication_litres else 0)
        | (ContextFlag.HBA1C if c.hba1c_pct is not None else 0)
        | (ContextFlag.EXTENDED_FLAGS if c.extended_flags is not None else 0)
    )
    w.u8(flags, "flags")
    w.u16(c.sequence, "sequence number")
    if c.extended_flags is not None:
        w.u8(c.extended_flags, "extended flags")
    if c.carbohydrate_id is not None and c.carbohydrate_kg is not None:
        w.u8(c.carbohydrate_id, "carbohydrate id")
        w.sfloat(c.carbohydrate_kg, "carbohydrate")
    if c.meal is not None:
        w.u8(c.meal, "meal")
    if c.tester is not None and c.health is not None:
        if not (0 <= c.tester <= 15 and 0 <= c.health <= 15):
            w.fail("tester and health are 4-bit values")
        w.u8(c.health << 4 | c.tester, "tester-health")
    if c.exercise_duration_s is not None and c.exercise_intensity_pct is not None:
        w.u16(c.exercise_duration_s, "exercise duration")
        w.u8(c.exercise_intensity_pct, "exercise intensity")
    if c.medication_id is not None and c.medication is not None:
        w.u8(c.medication_id, "medication id")
        w.sfloat(c.medication, "medication")
    if c.hba1c_pct is not None:
        w.sfloat(c.hba1c_pct, "HbA1c")
    return w.bytes()


class GlucoseFeature(IntFlag):
    """Glucose Feature 0x2A51 bits (unknown bits are kept)."""

    LOW_BATTERY_DETECTION = 1 << 0
    SENSOR_MALFUNCTION_DETECTION = 1 << 1
    SAMPLE_SIZE = 1 << 2
    STRIP_INSERTION_ERROR_DETECTION = 1 << 3
    STRIP_TYPE_ERROR_DETECTION = 1 << 4
    RESULT_HIGH_LOW_DETECTION = 1 << 5
    TEMPERATURE_HIGH_LOW_DETECTION = 1 << 6
    READ_INTERRUPT_DETECTION = 1 << 7
    GENERAL_DEVICE_FAULT = 1 << 8
    TIME_FAULT = 1 << 9
    MULTIPLE_BOND = 1 << 10


_glucose_feature = cached_flags(GlucoseFeature)


def decode_glucose_feature(payload: bytes, quirks: Quirks = NO_QUIRKS) -> GlucoseFeature:
    r = Reader(GLUCOSE_FEATURE, payload)
    value = _glucose_feature(r.u16("feature bits"))
    r.end()
    return value


def encode_glucose_feature(value: GlucoseFeature, quirks: Quirks = NO_QUIRKS) -> bytes:
    w = Writer(GLUCOSE_FEATURE)
    w.u16(int(value), "feature bits")
    return w.bytes()
