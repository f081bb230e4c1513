"""Seeded fuzzing: >= 100 000 random and mutated payloads per codec raise only DecodeError.

Codecs sharing one decoder (the Device Information strings) are fuzzed once.
Payloads: random bytes of random length, and bit flips / truncations / extensions /
byte insertions / deletions of valid payloads (the research vectors plus a few encoded
values per codec). Every payload that IS accepted must re-encode to the same bytes, so
an accepted payload can never have been read as a silently different value.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from device_drivers import uuids
from device_drivers.codecs import pmd
from device_drivers.codecs.bp import BloodPressureMeasurement, BpFeature, encode_bp_feature
from device_drivers.codecs.date_time import DateTime
from device_drivers.codecs.glucose import GlucoseFeature, encode_glucose_feature
from device_drivers.codecs.numbers import MderFloat, MderSpecial
from device_drivers.codecs.plx import (
    PlxContinuous,
    PlxDeviceStatus,
    PlxMeasurementStatus,
    PlxSpotCheck,
    encode_plx_continuous,
    encode_plx_spot_check,
)
from device_drivers.codecs.registry import CODECS, Codec
from device_drivers.codecs.weight import WeightMeasurement, encode_weight
from device_drivers.errors import DecodeError
from device_drivers.quirks import NO_QUIRKS, Quirks, quirks_for
from tests.device_drivers.codecs.vectors import ALL

PER_CODEC = 100_000
BM85 = quirks_for("Beurer", "BM85")

_EXTRA: dict[str, list[bytes]] = {
    uuids.INTERMEDIATE_CUFF_PRESSURE: [bytes.fromhex("1E9C00FF07FF07E30708090D1835FF07001000")],
    uuids.BLOOD_PRESSURE_FEATURE: [encode_bp_feature(BpFeature(0x3F))],
    uuids.GLUCOSE_FEATURE: [encode_glucose_feature(GlucoseFeature(0x7FF))],
    uuids.GLUCOSE_MEASUREMENT_CONTEXT: [bytes.fromhex("FF0700000132F002051E000801020840044100")],
    uuids.PLX_SPOT_CHECK_MEASUREMENT: [
        encode_plx_spot_check(
            PlxSpotCheck(
                MderFloat(97, 0),
                MderFloat(72, 0),
                DateTime(2024, 5, 17, 8, 30, 0),
                PlxMeasurementStatus(0x80),
                PlxDeviceStatus(0x20),
                MderFloat(45, -1),
            )
        )
    ],
    uuids.PLX_CONTINUOUS_MEASUREMENT: [
        encode_plx_continuous(
            PlxContinuous(
                MderFloat(97, 0),
                MderFloat(72, 0),
                MderFloat(96, 0),
                MderFloat(73, 0),
                MderFloat(98, 0),
                MderFloat(71, 0),
                PlxMeasurementStatus(0x80),
                PlxDeviceStatus(0x20),
                MderFloat(45, -1),
            )
        )
    ],
    uuids.WEIGHT_MEASUREMENT: [
        encode_weight(
            WeightMeasurement(False, 14470, DateTime(2024, 5, 17, 8, 30, 0), 2, 236, 1750)
        )
    ],
    uuids.PMD_CONTROL_POINT: [
        bytes.fromhex("F0010000000001820001010E00"),
        bytes.fromhex("F0020006"),
        bytes.fromhex("0F0500"),
        bytes.fromhex("0300"),
    ],
    uuids.PMD_DATA: [pmd.encode_ecg_frame(pmd.ecg_frame(123456789, range(-36, 37)))],
    uuids.uuid16(0x2A19): [b"\x55"],
    uuids.uuid16(0x2A29): [b"OMRONHEALTHCARE", b"BM85\x00\x00", "Gerät-Ü".encode()],
}


def _seeds(codec: Codec) -> list[bytes]:
    seeds = [v.payload for v in ALL if uuids.normalize_uuid(v.char) == codec.uuid and not v.model]
    seeds += _EXTRA.get(codec.uuid, [])
    assert seeds, f"no seed payload for {codec.name}"
    return seeds


def _payloads(rng: random.Random, seeds: list[bytes], count: int) -> Iterator[bytes]:
    # getrandbits(k) % n instead of randrange: a slight bias is fine here, speed matters.
    bits = rng.getrandbits
    for i in range(count):
        kind = i % 6
        if kind == 0:
            yield rng.randbytes(bits(16) % 48)
            continue
        data = bytearray(seeds[bits(16) % len(seeds)])
        size = len(data)
        if kind in (1, 2) and size:  # bit flips
            for _ in range(1 + bits(8) % 3):
                bit = bits(16) % (size * 8)
                data[bit >> 3] ^= 1 << (bit & 7)
        elif kind == 3:  # truncation
            del data[bits(16) % (size + 1) :]
        elif kind == 4:  # extension
            data += rng.randbytes(1 + bits(8) % 5)
        elif size:  # insertion or deletion in the middle
            at = bits(16) % size
            if bits(1):
                data.insert(at, bits(8))
            else:
                del data[at]
        yield bytes(data)


def _fuzz(codec: Codec, quirks: Quirks, seeds: list[bytes], seed: int) -> tuple[int, int]:
    rng = random.Random(seed)
    accepted = rejected = 0
    decode, encode = codec.decode, codec.encode
    for payload in _payloads(rng, seeds, PER_CODEC):
        try:
            value = decode(payload, quirks)
        except DecodeError as exc:
            assert exc.payload == payload and exc.reason
            rejected += 1
            continue
        accepted += 1
        if quirks is NO_QUIRKS:
            assert encode(value, quirks) == payload, payload.hex()
    return accepted, rejected


# The six Device Information strings share one decoder; fuzz it once (as 0x2A29).
_DIS_STRINGS = {uuids.uuid16(n) for n in (0x2A24, 0x2A25, 0x2A26, 0x2A27, 0x2A28)}
FUZZED = [c for c in CODECS if c.uuid not in _DIS_STRINGS]


@pytest.mark.slow
@pytest.mark.parametrize("codec", FUZZED, ids=lambda c: c.name.replace(" ", "_"))
def test_only_decode_errors(codec: Codec) -> None:
    accepted, rejected = _fuzz(codec, NO_QUIRKS, _seeds(codec), seed=int(codec.uuid[:8], 16))
    assert accepted + rejected == PER_CODEC
    assert rejected > 0, "fuzzing never hit the error paths"
    assert accepted > 0, "fuzzing never produced a valid payload"


@pytest.mark.slow
def test_bm85_quirk_profile_only_decode_errors() -> None:
    codec = next(c for c in CODECS if c.uuid == uuids.BLOOD_PRESSURE_MEASUREMENT)
    seeds = [v.payload for v in ALL if v.model == "BM85"]
    accepted, rejected = _fuzz(codec, BM85, seeds, seed=85)
    assert accepted > 0 and rejected > 0


def test_bm85_accepted_payloads_reencode() -> None:
    # Under the quirk, re-encoding is exact except a MAP of 0 with a non-zero exponent.
    codec = next(c for c in CODECS if c.uuid == uuids.BLOOD_PRESSURE_MEASUREMENT)
    seeds = [v.payload for v in ALL if v.model == "BM85"]
    rng = random.Random(7)
    checked = 0
    for payload in _payloads(rng, seeds, 5000):
        try:
            value = codec.decode(payload, BM85)
        except DecodeError:
            continue
        assert isinstance(value, BloodPressureMeasurement)
        map_raw = int.from_bytes(payload[5:7], "little")
        if value.mean_arterial is MderSpecial.NAN and map_raw != 0:
            continue  # 0x07FF or 0 x 10^e: both read as "absent", re-encoded as 0x0000
        assert codec.encode(value, BM85) == payload
        checked += 1
    assert checked > 0
