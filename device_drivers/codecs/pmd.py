"""Polar Measurement Data (PMD, Polar H10): control point commands/responses and ECG frames.

Control point FB005C81 (write + indicate):
* commands ``01 <type>`` get settings, ``02 <type> <settings TLV>`` start, ``03 <type>`` stop,
  ``04 <type>`` get SDK-mode settings;
* read value ``0F <feature mask bytes>``;
* responses ``F0 | op code | type | status | [more u8 | parameters]`` (get-settings
  parameters are a settings TLV).
Settings TLV: ``setting type u8 | count u8 | count x value`` (value size by type).

Data FB005C82 (notify): ``type u8 | timestamp u64 ns (of the LAST sample, epoch
2000-01-01 UTC) | frame type u8 | payload``. ECG frame type 0 = 3-byte signed
little-endian microvolt samples, decoded vectorised with numpy.
Source: polar-ble-sdk (research ble.md §2.1).
"""

from __future__ import annotations

import datetime as dt
import struct
from dataclasses import dataclass, field
from enum import IntEnum, IntFlag

import numpy as np
import numpy.typing as npt

from device_drivers.codecs._binary import Reader, Writer
from device_drivers.errors import DecodeError
from device_drivers.quirks import NO_QUIRKS, Quirks
from device_drivers.uuids import PMD_CONTROL_POINT, PMD_DATA

#: PMD time zero: 2000-01-01T00:00:00Z.
PMD_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
H10_ECG_HZ = 130.0


class PmdMeasurementType(IntEnum):
    ECG = 0
    PPG = 1
    ACC = 2
    PPI = 3
    GYRO = 5
    MAG = 6
    SKIN_TEMP = 7
    SDK_MODE = 9


class PmdOpCode(IntEnum):
    GET_SETTINGS = 0x01
    START = 0x02
    STOP = 0x03
    GET_SDK_MODE_SETTINGS = 0x04


class PmdSettingType(IntEnum):
    SAMPLE_RATE = 0
    RESOLUTION = 1
    RANGE = 2
    RANGE_MILLIUNIT = 3
    CHANNELS = 4
    FACTOR = 5  # IEEE-754 float32 bits, kept raw
    SECURITY = 6


SETTING_VALUE_SIZE = {0: 2, 1: 2, 2: 2, 3: 4, 4: 1, 5: 4, 6: 16}


class PmdStatus(IntEnum):
    SUCCESS = 0
    INVALID_OP_CODE = 1
    INVALID_MEASUREMENT_TYPE = 2
    NOT_SUPPORTED = 3
    INVALID_LENGTH = 4
    INVALID_PARAMETER = 5
    ALREADY_IN_STATE = 6
    INVALID_RESOLUTION = 7
    INVALID_SAMPLE_RATE = 8
    INVALID_RANGE = 9
    INVALID_MTU = 10
    INVALID_NUMBER_OF_CHANNELS = 11
    INVALID_STATE = 12
    DEVICE_IN_CHARGER = 13
    DISK_FULL = 14


class PmdFeature(IntFlag):
    """First feature byte of the control-point read value (later bytes kept raw)."""

    ECG = 1 << 0
    PPG = 1 << 1
    ACC = 1 << 2
    PPI = 1 << 3
    GYRO = 1 << 5
    MAG = 1 << 6
    SKIN_TEMP = 1 << 7


@dataclass(frozen=True, slots=True)
class PmdSetting:
    type: PmdSettingType
    values: tuple[int, ...]


Settings = tuple[PmdSetting, ...]


@dataclass(frozen=True, slots=True)
class PmdCommand:
    op_code: PmdOpCode
    measurement_type: int
    settings: Settings = ()


@dataclass(frozen=True, slots=True)
class PmdFeatures:
    mask: bytes

    @property
    def first(self) -> PmdFeature:
        return PmdFeature(self.mask[0] if self.mask else 0)


@dataclass(frozen=True, slots=True)
class PmdResponse:
    """Control-point response. ``settings`` is parsed from ``parameters`` for a successful
    get-settings response; ``parameters`` keeps the bytes for byte-exact re-encoding."""

    op_code: int
    measurement_type: int
    status: PmdStatus
    more: int | None = None
    parameters: bytes = b""
    settings: Settings | None = None


PmdControlPointValue = PmdCommand | PmdFeatures | PmdResponse

ECG_130HZ_14BIT: Settings = (
    PmdSetting(PmdSettingType.SAMPLE_RATE, (130,)),
    PmdSetting(PmdSettingType.RESOLUTION, (14,)),
)


def start_ecg(settings: Settings = ECG_130HZ_14BIT) -> PmdCommand:
    """``02 00 00 01 82 00 01 01 0E 00``: start ECG at 130 Hz, 14 bit (H10)."""
    return PmdCommand(PmdOpCode.START, PmdMeasurementType.ECG, settings)


def stop_ecg() -> PmdCommand:
    return PmdCommand(PmdOpCode.STOP, PmdMeasurementType.ECG)


def _read_settings(r: Reader) -> Settings:
    settings = []
    while r.remaining:
        raw_type = r.u8("setting type")
        size = SETTING_VALUE_SIZE.get(raw_type)
        if size is None:
            r.fail(f"unknown setting type {raw_type}")
        count = r.u8("setting count")
        values = tuple(
            int.from_bytes(r.raw(size, f"setting {raw_type} value"), "little") for _ in range(count)
        )
        settings.append(PmdSetting(PmdSettingType(raw_type), values))
    return tuple(settings)


def _write_settings(w: Writer, settings: Settings) -> None:
    for setting in settings:
        size = SETTING_VALUE_SIZE[setting.type]
        w.u8(setting.type, "setting type")
        w.u8(len(setting.values), "setting count")
        for value in setting.values:
            w.uint(value, size, f"setting {setting.type.name}")


def decode_pmd_control_point(payload: bytes, quirks: Quirks = NO_QUIRKS) -> PmdControlPointValue:
    """Decode a control-point value: a command, the feature read or a response."""
    r = Reader(PMD_CONTROL_POINT, payload)
    first = r.u8("op code")
    if first == 0x0F:
        mask = r.rest()
        if not mask:
            r.fail("feature read without a feature mask")
        return PmdFeatures(mask)
    if first == 0xF0:
        op = r.u8("response op code")
        measurement_type = r.u8("measurement type")
        status_raw = r.u8("status")
        try:
            status = PmdStatus(status_raw)
        except ValueError:
            r.fail(f"unknown response status {status_raw}")
        more = r.u8("more") if r.remaining else None
        start = r.pos
        parameters = r.rest()
        settings = None
        if op == PmdOpCode.GET_SETTINGS and status is PmdStatus.SUCCESS:
            r.pos = start
            settings = _read_settings(r)
        return PmdResponse(op, measurement_type, status, more, parameters, settings)
    try:
        op_code = PmdOpCode(first)
    except ValueError:
        r.fail(f"unknown control point op code {first:#04x}")
    measurement_type = r.u8("measurement type")
    settings = _read_settings(r) if op_code is PmdOpCode.START else ()
    r.end()
    return PmdCommand(op_code, measurement_type, settings)


def encode_pmd_control_point(value: PmdControlPointValue, quirks: Quirks = NO_QUIRKS) -> bytes:
    w = Writer(PMD_CONTROL_POINT)
    if isinstance(value, PmdFeatures):
        if not value.mask:
            w.fail("empty feature mask")
        w.u8(0x0F, "op code")
        w.raw(value.mask)
    elif isinstance(value, PmdResponse):
        if value.more is None and value.parameters:
            w.fail("parameters need the 'more' byte before them")
        w.u8(0xF0, "op code")
        w.u8(value.op_code, "response op code")
        w.u8(value.measurement_type, "measurement type")
        w.u8(value.status, "status")
        if value.more is not None:
            w.u8(value.more, "more")
        if value.settings is not None and not value.parameters:
            _write_settings(w, value.settings)
        else:
            w.raw(value.parameters)
    else:
        if value.settings and value.op_code is not PmdOpCode.START:
            w.fail("only START carries settings")
        w.u8(value.op_code, "op code")
        w.u8(value.measurement_type, "measurement type")
        _write_settings(w, value.settings)
    return w.bytes()


def get_settings_response(settings: Settings, measurement_type: int = 0) -> PmdResponse:
    """A successful get-settings response, as a device (simulator) sends it."""
    w = Writer(PMD_CONTROL_POINT)
    _write_settings(w, settings)
    return PmdResponse(
        PmdOpCode.GET_SETTINGS, measurement_type, PmdStatus.SUCCESS, 0, w.bytes(), settings
    )


# --- data frames --------------------------------------------------------------------------

_HEADER = struct.Struct("<BQB")
HEADER_SIZE = _HEADER.size  # 10


@dataclass(frozen=True, slots=True)
class PmdDataFrame:
    """Any PMD data notification: header fields and the raw payload."""

    measurement_type: int
    timestamp_ns: int
    frame_type: int
    payload: bytes


@dataclass(frozen=True, slots=True, eq=False)
class EcgFrame:
    """An H10 ECG frame: microvolt samples (read-only int32 array) and the time of the
    last sample in ns since 2000-01-01 UTC (device clock)."""

    timestamp_ns: int
    samples_uv: npt.NDArray[np.int32] = field(repr=False)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, EcgFrame)
            and self.timestamp_ns == other.timestamp_ns
            and np.array_equal(self.samples_uv, other.samples_uv)
        )

    def __hash__(self) -> int:
        return hash((self.timestamp_ns, self.samples_uv.tobytes()))

    @property
    def last_sample_time(self) -> dt.datetime:
        return PMD_EPOCH + dt.timedelta(microseconds=self.timestamp_ns // 1000)


def decode_pmd_data(payload: bytes, quirks: Quirks = NO_QUIRKS) -> PmdDataFrame | EcgFrame:
    """Decode a PMD data notification: ECG type-0 frames become :class:`EcgFrame`, other
    measurement types a :class:`PmdDataFrame` with the raw payload."""
    if len(payload) < HEADER_SIZE:
        raise DecodeError(PMD_DATA, payload, f"truncated: {len(payload)} < 10-byte header")
    measurement_type, timestamp, frame_type = _HEADER.unpack_from(payload)
    if measurement_type == PmdMeasurementType.ECG:
        return decode_ecg_frame(payload)
    return PmdDataFrame(measurement_type, timestamp, frame_type, bytes(payload[HEADER_SIZE:]))


def decode_ecg_frame(payload: bytes, quirks: Quirks = NO_QUIRKS) -> EcgFrame:
    """Decode an ECG data frame (type 0, frame type 0) vectorised; raises DecodeError."""
    size = len(payload)
    if size < HEADER_SIZE:
        raise DecodeError(PMD_DATA, payload, f"truncated: {size} < 10-byte header")
    measurement_type, timestamp, frame_type = _HEADER.unpack_from(payload)
    if measurement_type != PmdMeasurementType.ECG:
        raise DecodeError(PMD_DATA, payload, f"measurement type {measurement_type} is not ECG")
    if frame_type != 0:
        kind = "compressed (delta) " if frame_type & 0x80 else ""
        raise DecodeError(
            PMD_DATA, payload, f"unsupported {kind}ECG frame type {frame_type:#04x} (H10 uses 0)"
        )
    body = size - HEADER_SIZE
    if body % 3:
        raise DecodeError(PMD_DATA, payload, f"ECG payload of {body} bytes is not 3-byte samples")
    return EcgFrame(timestamp, samples_from_bytes(payload, HEADER_SIZE))


# A 3-byte sample seen as (low uint16, high int8): the sign lives in the high byte.
_SAMPLE24 = np.dtype([("lo", "<u2"), ("hi", "i1")])


def samples_from_bytes(data: bytes, offset: int = 0) -> npt.NDArray[np.int32]:
    """3-byte signed little-endian integers -> read-only int32 array (vectorised).
    ``len(data) - offset`` must be a multiple of 3."""
    records = np.frombuffer(data, dtype=_SAMPLE24, offset=offset)
    samples = records["hi"].astype(np.int32)
    samples <<= 16
    samples |= records["lo"]
    samples.flags.writeable = False
    return samples


def samples_to_bytes(samples: npt.ArrayLike) -> bytes:
    """int32 microvolts -> 3-byte signed little-endian; ValueError when out of 24-bit range."""
    values = np.asarray(samples, dtype=np.int64)
    if values.size and (values.min() < -(2**23) or values.max() >= 2**23):
        raise ValueError("ECG sample outside the 24-bit signed range")
    as_bytes = values.astype("<i4").view(np.uint8).reshape(-1, 4)
    return as_bytes[:, :3].tobytes()


def encode_ecg_frame(frame: EcgFrame, quirks: Quirks = NO_QUIRKS) -> bytes:
    """Encode an ECG frame (type 0, frame type 0); raises EncodeError."""
    w = Writer(PMD_DATA)
    w.u8(PmdMeasurementType.ECG, "measurement type")
    w.u64(frame.timestamp_ns, "timestamp")
    w.u8(0, "frame type")
    try:
        w.raw(samples_to_bytes(frame.samples_uv))
    except ValueError as exc:
        w.fail(str(exc))
    return w.bytes()


def encode_pmd_data(value: PmdDataFrame | EcgFrame, quirks: Quirks = NO_QUIRKS) -> bytes:
    if isinstance(value, EcgFrame):
        return encode_ecg_frame(value)
    w = Writer(PMD_DATA)
    w.u8(value.measurement_type, "measurement type")
    w.u64(value.timestamp_ns, "timestamp")
    w.u8(value.frame_type, "frame type")
    w.raw(value.payload)
    return w.bytes()


def max_samples_per_frame(att_mtu: int) -> int:
    """ECG samples that fit one notification at this ATT MTU (3 bytes ATT header,
    10 bytes PMD header): 73 at the MTU 232 that polarpy requests."""
    return max(0, (att_mtu - 3 - HEADER_SIZE) // 3)


def ecg_frame(timestamp_ns: int, samples_uv: npt.ArrayLike) -> EcgFrame:
    """Build an :class:`EcgFrame` from any integer sequence (for simulators and tests)."""
    array = np.array(samples_uv, dtype=np.int32)
    array.flags.writeable = False
    return EcgFrame(timestamp_ns, array)
