"""Recorded ECG source: format-212 reader and a MIT-BIH excerpt streamed by the strap."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from device_drivers.ble.ecg import PolarEcgStream
from device_drivers.ble.memory import MemoryTransport
from firmware_sim.devices.ecg_gatt import PolarStrap
from firmware_sim.devices.ecg_record import RecordedEcg, decode_212
from firmware_sim.devices.inprocess import InProcessDevice

EXCERPT = Path(__file__).parents[2] / "data" / "ecg" / "mitdb_208_300s_60s.npy"


def encode_212(samples: list[int]) -> bytes:
    out = bytearray()
    for a, b in zip(samples[::2], samples[1::2], strict=True):
        a, b = a & 0xFFF, b & 0xFFF
        out += bytes([a & 0xFF, (a >> 8) | ((b >> 8) << 4), b & 0xFF])
    return bytes(out)


def test_format_212_round_trip() -> None:
    samples = [995, 1000, -1, -2048, 2047, 0, 12, -300]
    assert decode_212(encode_212(samples)).tolist() == samples


async def test_mitbih_excerpt_streams_as_130_hz_microvolts() -> None:
    adc = np.load(EXCERPT)  # record 208, 360 Hz, 200 adu/mV, baseline removed
    source = RecordedEcg.from_adc(adc, fs_in=360, gain_adu_per_mv=200)
    assert abs(source.samples_uv.size - 60 * 130) <= 1
    expected = source.samples_uv[: 10 * 130].copy()
    strap = PolarStrap(source)
    async with (
        InProcessDevice(strap) as dev,
        MemoryTransport([dev]) as transport,
        transport.connect(await anext(transport.advertisements())) as conn,
        PolarEcgStream(conn, segment_s=10) as ecg,
    ):
        segment = await anext(ecg.segments())
    assert np.array_equal(segment.samples_uv[: expected.size], expected)
    # PVCs in record 208 reach well beyond 1 mV
    assert np.abs(source.samples_uv).max() > 1000
