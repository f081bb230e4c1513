import pytest

from device_drivers import uuids
from device_drivers.codecs.bp import BloodPressureMeasurement
from device_drivers.codecs.registry import CODECS, codec_for, decode, encode
from device_drivers.errors import DecodeError, UnknownCharacteristicError
from device_drivers.quirks import quirks_for
from tests.device_drivers.codecs.vectors import ALL, Vector


@pytest.mark.parametrize("spelling", ["2A35", "2a35", "0x2A35", "00002A35", uuids.uuid16(0x2A35),
                                      uuids.uuid16(0x2A35).upper(), " 2a35 "])  # fmt: skip
def test_uuid_spellings(spelling: str) -> None:
    assert codec_for(spelling).uuid == uuids.BLOOD_PRESSURE_MEASUREMENT


def test_vendor_uuid_case_insensitive() -> None:
    assert codec_for(uuids.PMD_DATA.upper()).name == "Polar PMD Data"


@pytest.mark.parametrize(
    "bad", ["2A99", "zz", "", "1234-5678", "0000ffff-0000-1000-8000-00805f9b34fc"]
)
def test_unknown(bad: str) -> None:
    with pytest.raises(UnknownCharacteristicError):
        codec_for(bad)


def test_registry_is_unique_and_complete() -> None:
    assert len({c.uuid for c in CODECS}) == len(CODECS) == 22


@pytest.mark.parametrize("vector", ALL, ids=lambda v: v.id)
def test_every_vector_roundtrips_through_registry(vector: Vector) -> None:
    quirks = quirks_for(vector.manufacturer, vector.model)
    value = decode(vector.char, vector.payload, quirks)
    assert encode(vector.char, value, quirks) == vector.payload


def test_decode_passes_quirks() -> None:
    payload = bytes.fromhex("566A0047000000EA07080B121F00003F000000")
    with pytest.raises(DecodeError):
        decode("2A35", payload)
    value = decode("2A35", payload, quirks_for("Beurer", "BM85"))
    assert isinstance(value, BloodPressureMeasurement)


def test_decode_error_carries_context_and_pickles() -> None:
    import pickle

    with pytest.raises(DecodeError) as info:
        decode("2A37", b"\x10")
    err = info.value
    assert err.char_uuid == uuids.HEART_RATE_MEASUREMENT and err.payload_hex == "10"
    assert "heart rate" in err.reason and str(err).startswith("2A37 [10]: truncated")
    again = pickle.loads(pickle.dumps(err))
    assert (again.char_uuid, again.payload, again.reason) == (err.char_uuid, b"\x10", err.reason)
