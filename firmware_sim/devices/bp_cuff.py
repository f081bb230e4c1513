"""A simulated upper-arm blood-pressure cuff producing byte-exact 0x2A35 payloads.

The cuff draws each measurement from a scenario (a typical home pattern: mean and
day-to-day spread of systolic, diastolic and pulse, plus occasional irregular-pulse and
body-movement flags), stamps it with its own wall clock (local time, no zone, whole
seconds — as real cuffs do) and encodes it with the shared GATT encoder, so the gateway
decodes exactly what it would receive from a device over the air.

Scenario means are placed inside the ACC/AHA 2017 office blood-pressure categories
(Whelton PK et al., Hypertension 2018;71:e13–e115: normal <120/<80, elevated
120–129/<80, stage 2 ≥140 or ≥90, severe >180 and/or >120) so rules can be exercised;
they are simulation parameters, not clinical thresholds. Everything it produces is
simulated and must be marked so by whoever captures it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from device_drivers.codecs.bp import (
    BloodPressureMeasurement,
    BpMeasurementStatus,
    encode_bp_measurement,
)
from device_drivers.codecs.date_time import DateTime
from device_drivers.codecs.numbers import MderFloat
from device_drivers.uuids import BLOOD_PRESSURE_MEASUREMENT
from vitals.units import PressureUnit

CHARACTERISTIC = BLOOD_PRESSURE_MEASUREMENT


@dataclass(frozen=True, slots=True)
class Scenario:
    systolic: tuple[float, float]  # mean, standard deviation (mmHg)
    diastolic: tuple[float, float]
    pulse: tuple[float, float]  # beats/min
    irregular_pulse_p: float = 0.0
    body_movement_p: float = 0.02


SCENARIOS: dict[str, Scenario] = {
    "normal": Scenario((114, 6), (73, 5), (68, 6)),
    "elevated": Scenario((125, 3), (75, 3), (72, 6)),
    "hypertensive": Scenario((152, 8), (96, 6), (76, 7), irregular_pulse_p=0.05),
    "crisis": Scenario((192, 6), (124, 4), (92, 8), irregular_pulse_p=0.1),
    "hypotensive": Scenario((86, 4), (54, 3), (96, 6)),
}


def _local_wall_clock() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


class BpCuff:
    """One cuff. ``clock`` is the device's own wall clock (naive local time)."""

    def __init__(
        self,
        scenario: str = "normal",
        seed: int | None = None,
        user_id: int | None = 1,
        clock: Callable[[], dt.datetime] = _local_wall_clock,
    ) -> None:
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; one of {', '.join(SCENARIOS)}")
        self.scenario = SCENARIOS[scenario]
        self.user_id = user_id
        self.clock = clock
        self._rng = random.Random(seed)

    def measure(self) -> BloodPressureMeasurement:
        """Take one measurement as GATT-level values (whole mmHg, like real cuffs)."""
        s, rng = self.scenario, self._rng
        systolic = round(rng.gauss(*s.systolic))
        diastolic = min(round(rng.gauss(*s.diastolic)), systolic - 15)
        mean_arterial = round(diastolic + (systolic - diastolic) / 3)
        pulse = round(rng.gauss(*s.pulse))
        status = 0
        if rng.random() < s.body_movement_p:
            status |= 0x0001
        if rng.random() < s.irregular_pulse_p:
            status |= 0x0004
        return BloodPressureMeasurement(
            unit=PressureUnit.MMHG,
            systolic=MderFloat(systolic, 0),
            diastolic=MderFloat(diastolic, 0),
            mean_arterial=MderFloat(mean_arterial, 0),
            timestamp=DateTime.from_datetime(self.clock()),
            pulse_rate=MderFloat(pulse, 0),
            user_id=self.user_id,
            status=BpMeasurementStatus(status),
        )

    def measurement_bytes(self) -> bytes:
        """One Blood Pressure Measurement (0x2A35) indication payload."""
        return encode_bp_measurement(self.measure())

    async def indications(self, interval_s: float, count: int = 0) -> AsyncIterator[bytes]:
        """A measurement every ``interval_s`` (the first one at once); ``count`` 0 = forever."""
        n = 0
        while count == 0 or n < count:
            if n:
                await asyncio.sleep(interval_s)
            yield self.measurement_bytes()
            n += 1
