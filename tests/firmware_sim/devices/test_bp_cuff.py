"""The simulated cuff's bytes are valid 0x2A35 and follow its scenario."""

from __future__ import annotations

import datetime as dt
import statistics

import pytest

from device_drivers.codecs.bp import BpFlag, decode_bp_measurement
from firmware_sim.devices.bp_cuff import SCENARIOS, BpCuff

CLOCK = dt.datetime(2026, 11, 25, 8, 15, 30)


def test_bytes_round_trip_through_the_decoder_with_all_fields() -> None:
    cuff = BpCuff("normal", seed=1, user_id=2, clock=lambda: CLOCK)
    payload = cuff.measurement_bytes()
    m = decode_bp_measurement(payload)
    assert payload[0] & (BpFlag.TIME_STAMP | BpFlag.PULSE_RATE | BpFlag.USER_ID
                         | BpFlag.MEASUREMENT_STATUS)
    assert not payload[0] & BpFlag.KPA
    assert m.timestamp is not None and m.timestamp.to_naive() == CLOCK
    assert m.user_id == 2
    # 1 flags + 3 SFLOAT + 7 time + pulse SFLOAT + user + status u16
    assert len(payload) == 1 + 6 + 7 + 2 + 1 + 2


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_values_follow_the_scenario(name: str) -> None:
    cuff = BpCuff(name, seed=7)
    ms = [decode_bp_measurement(cuff.measurement_bytes()) for _ in range(200)]
    systolic = statistics.mean(float(m.systolic.value) for m in ms)  # type: ignore[union-attr]
    diastolic = [float(m.diastolic.value) for m in ms]  # type: ignore[union-attr]
    mean, sd = SCENARIOS[name].systolic
    assert abs(systolic - mean) < sd  # the mean of 200 draws is well within one sd
    assert all(d < float(m.systolic.value) for d, m in zip(diastolic, ms, strict=True))  # type: ignore[union-attr]


def test_same_seed_same_values() -> None:
    a = BpCuff("hypertensive", seed=5, clock=lambda: CLOCK)
    b = BpCuff("hypertensive", seed=5, clock=lambda: CLOCK)
    assert [a.measurement_bytes() for _ in range(5)] == [b.measurement_bytes() for _ in range(5)]


async def test_indications_stop_after_count() -> None:
    cuff = BpCuff(seed=1)
    got = [p async for p in cuff.indications(0.001, count=3)]
    assert len(got) == 3


def test_unknown_scenario_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown scenario"):
        BpCuff("marathon")
