"""Polar PMD ECG session against the strap model: start/stop, reassembly, gaps."""

from __future__ import annotations

import numpy as np
import pytest

from device_drivers.ble.ecg import PmdFailed, PolarEcgStream
from device_drivers.ble.memory import MemoryTransport
from device_drivers.ble.transport import Disconnected, Matcher
from device_drivers.codecs.pmd import PmdSetting, PmdSettingType, PmdStatus
from device_drivers.uuids import PMD_SERVICE
from firmware_sim.devices.ecg_gatt import PolarStrap
from firmware_sim.devices.ecg_synth import SyntheticEcg
from firmware_sim.devices.inprocess import InProcessDevice


async def first_adv(transport: MemoryTransport):
    async for adv in transport.advertisements(Matcher.of(services=[PMD_SERVICE])):
        return adv
    raise AssertionError


async def stream(strap: PolarStrap, frames: int, **kw):
    segments = []
    async with InProcessDevice(strap) as dev, MemoryTransport([dev]) as transport:
        async with transport.connect(await first_adv(transport)) as conn, PolarEcgStream(
            conn, **kw
        ) as ecg:
            async for segment in ecg.segments():
                segments.append(segment)
                if sum(s.samples_uv.size for s in segments) >= frames * strap.samples_per_frame:
                    break
        return segments, ecg


async def test_stream_is_reassembled_byte_exact_without_gaps() -> None:
    strap = PolarStrap(SyntheticEcg(seed=3))
    segments, ecg = await stream(strap, 40, segment_s=10)
    expected = SyntheticEcg(seed=3).next(40 * 73)
    got = np.concatenate([s.samples_uv for s in segments])[: 40 * 73]
    assert np.array_equal(got, expected)
    assert all(s.gaps == () for s in segments) and ecg.missing_samples == 0
    assert segments[0].samples_uv.size >= 1300  # first cut after 10 s of signal
    assert strap.commands[0] == bytes.fromhex("0200000182000101 0e00".replace(" ", ""))
    assert strap.commands[-1] == bytes.fromhex("0300")  # stopped on exit
    assert not strap.streaming and ecg.clock_offset is not None


async def test_lost_frames_are_reported_as_gaps() -> None:
    strap = PolarStrap(drop_frames=frozenset({5, 6, 20}))
    segments, ecg = await stream(strap, 30, segment_s=100)
    gaps = [g for s in segments for g in s.gaps]
    assert gaps == [(5 * 73, 2 * 73), (18 * 73, 73)]
    assert ecg.missing_samples == 3 * 73


async def test_unsupported_settings_are_refused() -> None:
    strap = PolarStrap()
    settings = (PmdSetting(PmdSettingType.SAMPLE_RATE, (250,)),)
    async with (
        InProcessDevice(strap) as dev,
        MemoryTransport([dev]) as transport,
        transport.connect(await first_adv(transport)) as conn,
    ):
        with pytest.raises(PmdFailed) as info:
            async with PolarEcgStream(conn, settings=settings):
                pass
    assert info.value.status is PmdStatus.INVALID_SAMPLE_RATE


async def test_a_dropped_link_ends_the_stream_with_the_samples_so_far() -> None:
    strap = PolarStrap()
    got = 0
    async with InProcessDevice(strap) as dev, MemoryTransport([dev]) as transport:
        adv = await first_adv(transport)
        async with transport.connect(adv) as conn, PolarEcgStream(conn, segment_s=1) as ecg:
            async for segment in ecg.segments():
                got += segment.samples_uv.size
                if got >= 10 * 73:
                    await transport.faults.drop(adv.address)  # the strap walked away
        assert not conn.is_connected and not ecg.stalled
        with pytest.raises(Disconnected):
            await conn.read(PMD_SERVICE)
    assert got >= 10 * 73 and ecg.frames * 73 == got
