import numpy as np
import pytest
from hypothesis import given, settings

from device_drivers.codecs.pmd import (
    ECG_130HZ_14BIT,
    EcgFrame,
    PmdCommand,
    PmdControlPointValue,
    PmdDataFrame,
    PmdFeature,
    PmdFeatures,
    PmdOpCode,
    PmdResponse,
    PmdStatus,
    decode_ecg_frame,
    decode_pmd_control_point,
    decode_pmd_data,
    ecg_frame,
    encode_ecg_frame,
    encode_pmd_control_point,
    encode_pmd_data,
    get_settings_response,
    samples_from_bytes,
    samples_to_bytes,
    start_ecg,
    stop_ecg,
)
from device_drivers.errors import DecodeError, EncodeError
from tests.device_drivers.codecs import strategies as gen
from tests.device_drivers.codecs.vectors import OTHER

VEC = {v.id: v for v in OTHER}


def test_official_ecg_vector() -> None:
    frame = decode_pmd_data(VEC["PMD-ECG"].payload)
    assert isinstance(frame, EcgFrame)
    assert frame.timestamp_ns == 2_000_000_000
    assert frame.samples_uv.tolist() == [-32766, 32770]
    assert frame.last_sample_time.isoformat() == "2000-01-01T00:00:02+00:00"
    assert encode_pmd_data(frame) == VEC["PMD-ECG"].payload
    assert not frame.samples_uv.flags.writeable


def test_start_and_stop_commands() -> None:
    assert encode_pmd_control_point(start_ecg()) == VEC["PMD-start"].payload
    assert decode_pmd_control_point(VEC["PMD-start"].payload) == start_ecg()
    assert encode_pmd_control_point(stop_ecg()) == bytes.fromhex("0300")


def test_get_settings_response() -> None:
    payload = bytes.fromhex("F0 01 00 00 00 00 01 82 00 01 01 0E 00".replace(" ", ""))
    value = decode_pmd_control_point(payload)
    assert isinstance(value, PmdResponse)
    assert value.status is PmdStatus.SUCCESS and value.settings == ECG_130HZ_14BIT
    assert value == get_settings_response(ECG_130HZ_14BIT)
    assert encode_pmd_control_point(value) == payload


def test_start_response_and_features() -> None:
    value = decode_pmd_control_point(bytes.fromhex("F0020006"))
    assert value == PmdResponse(2, 0, PmdStatus.ALREADY_IN_STATE)
    features = decode_pmd_control_point(bytes.fromhex("0F0500"))
    assert isinstance(features, PmdFeatures)
    assert features.first == PmdFeature.ECG | PmdFeature.ACC


def test_samples_vectorised_sign_extension() -> None:
    values = [0, 1, -1, 2**23 - 1, -(2**23), 1234567, -7654321]
    data = samples_to_bytes(values)
    assert len(data) == 3 * len(values)
    assert samples_from_bytes(data).tolist() == values
    with pytest.raises(ValueError):
        samples_to_bytes([2**23])


def test_other_measurement_type_is_raw_frame() -> None:
    payload = bytes.fromhex("02 0100000000000000 01 AABBCC".replace(" ", ""))
    frame = decode_pmd_data(payload)
    assert frame == PmdDataFrame(2, 1, 1, bytes.fromhex("AABBCC"))
    assert encode_pmd_data(frame) == payload


@pytest.mark.parametrize(
    ("hexstr", "reason"),
    [
        ("00 0094357700000000", "header"),
        ("00 0094357700000000 00 0280", "3-byte"),
        ("00 0094357700000000 80 028000", "compressed"),
        ("00 0094357700000000 01 028000", "frame type"),
    ],
)
def test_malformed_data(hexstr: str, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode_pmd_data(bytes.fromhex(hexstr.replace(" ", "")))


def test_decode_ecg_frame_rejects_other_types() -> None:
    with pytest.raises(DecodeError, match="not ECG"):
        decode_ecg_frame(bytes.fromhex("02 0100000000000000 00".replace(" ", "")))


@pytest.mark.parametrize(
    ("hexstr", "reason"),
    [
        ("", "op code"),
        ("0F", "feature mask"),
        ("07 00", "op code 0x07"),
        ("02", "measurement type"),
        ("02 00 07 01 8200", "setting type"),
        ("02 00 00 01 82", "setting 0 value"),
        ("F0 01 00 0F", "status"),
        ("F0 01 00 00 00 00 02 8200", "setting 0 value"),
        ("03 00 00", "trailing"),
    ],
)
def test_malformed_control_point(hexstr: str, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode_pmd_control_point(bytes.fromhex(hexstr.replace(" ", "")))


def test_encoder_errors() -> None:
    with pytest.raises(EncodeError):
        encode_pmd_control_point(PmdCommand(PmdOpCode.STOP, 0, ECG_130HZ_14BIT))
    with pytest.raises(EncodeError):
        encode_ecg_frame(ecg_frame(0, [2**23 + 5]))
    with pytest.raises(EncodeError):
        encode_pmd_control_point(PmdResponse(2, 0, PmdStatus.SUCCESS, None, b"\x01"))


def test_frame_equality_compares_samples() -> None:
    assert ecg_frame(1, [1, 2]) == ecg_frame(1, np.array([1, 2]))
    assert ecg_frame(1, [1, 2]) != ecg_frame(1, [1, 3])


@settings(deadline=None)  # shared CI box: wall-clock limits flake
@given(gen.pmd_control_points())
def test_control_point_roundtrip(value: PmdControlPointValue) -> None:
    assert decode_pmd_control_point(encode_pmd_control_point(value)) == value


@settings(deadline=None)  # shared CI box: wall-clock limits flake
@given(gen.ecg_frames())
def test_ecg_roundtrip(frame: EcgFrame) -> None:
    assert decode_pmd_data(encode_pmd_data(frame)) == frame


def test_max_samples_per_frame() -> None:
    from device_drivers.codecs.pmd import max_samples_per_frame

    assert max_samples_per_frame(232) == 73  # 229-byte notifications (polarpy)
    assert max_samples_per_frame(23) == 3
    frame = ecg_frame(0, range(73))
    assert len(encode_ecg_frame(frame)) == 232 - 3
