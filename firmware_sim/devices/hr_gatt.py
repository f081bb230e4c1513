"""Heart-rate strap (Heart Rate service 0x180D): 0x2A37 once a second while subscribed,
with sensor contact and RR intervals (1/1024 s) around ``bpm`` (seeded jitter)."""

from __future__ import annotations

import random

from device_drivers.codecs.heart_rate import HeartRateMeasurement, SensorContact, encode_heart_rate
from device_drivers.uuids import HEART_RATE_MEASUREMENT, normalize_uuid
from firmware_sim.devices.gatt_model import Action, Char, DeviceModel, Notify

HEART_RATE_SERVICE = normalize_uuid("180d")
BODY_SENSOR_LOCATION = normalize_uuid("2a38")
CHEST = 1


class HeartRateStrap(DeviceModel):
    kind = "heart_rate"

    def __init__(
        self, *, bpm: float = 64.0, seed: int = 0, address: str = "C0:FF:EE:00:00:04",
        name: str = "HomeRPM-HR",
    ) -> None:
        super().__init__(address=address, name=name)
        self.model_number = "SimHR"
        self.bpm = bpm
        self._rng = random.Random(seed)
        self.sent: list[HeartRateMeasurement] = []

    def primary_services(self) -> tuple[str, ...]:
        return (HEART_RATE_SERVICE,)

    def own_chars(self) -> tuple[Char, ...]:
        return (
            Char.of(HEART_RATE_MEASUREMENT, HEART_RATE_SERVICE, "notify"),
            Char.of(BODY_SENSOR_LOCATION, HEART_RATE_SERVICE, "read"),
        )

    def read(self, uuid: str) -> bytes:
        if normalize_uuid(uuid) == BODY_SENSOR_LOCATION:
            return bytes([CHEST])
        return super().read(uuid)

    def subscribe(self, uuid: str, enabled: bool) -> list[Action]:
        super().subscribe(uuid, enabled)
        if normalize_uuid(uuid) == HEART_RATE_MEASUREMENT:
            self.stream_period = 1.0 if enabled else None
        return []

    def tick(self) -> list[Action]:
        rr_s = 60.0 / self.bpm * (1 + self._rng.gauss(0, 0.03))
        beats = max(1, round(1.0 / rr_s))
        m = HeartRateMeasurement(
            round(60.0 / rr_s), SensorContact.DETECTED,
            rr_intervals=tuple(round(rr_s * 1024) for _ in range(beats)),
        )
        self.sent.append(m)
        return [Notify(HEART_RATE_MEASUREMENT, encode_heart_rate(m))]
