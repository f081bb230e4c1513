"""Body-weight scale (Weight Scale service 0x181D): stored measurements are indicated on
0x2A9D when the central subscribes, then the scale disconnects (like a cuff).
Weight Scale Feature 0x2A9E = time stamp supported, 0.005 kg resolution."""

from __future__ import annotations

import datetime as dt

from device_drivers.codecs.date_time import DateTime
from device_drivers.codecs.weight import WeightMeasurement, encode_weight
from device_drivers.uuids import WEIGHT_MEASUREMENT, normalize_uuid
from firmware_sim.devices.gatt_model import (
    Action,
    Char,
    DeviceModel,
    Disconnect,
    Notify,
    StopAdvertising,
)

WEIGHT_SCALE_SERVICE = normalize_uuid("181d")
WEIGHT_SCALE_FEATURE = normalize_uuid("2a9e")
# bit0 time stamp supported; bits 3-6 weight resolution 1 = 0.5 kg ... 7 = 0.005 kg.
_FEATURES = 0x01 | (7 << 3)


def weighing(kg: float, at: dt.datetime, user_id: int | None = 1) -> WeightMeasurement:
    return WeightMeasurement.of(kg, timestamp=DateTime.from_datetime(at), user_id=user_id)


class Scale(DeviceModel):
    kind = "scale"

    def __init__(
        self, measurements: list[WeightMeasurement] | None = None, *,
        address: str = "C0:FF:EE:00:00:06", name: str = "HomeRPM-Scale",
    ) -> None:
        super().__init__(address=address, name=name)
        self.model_number = "SimScale"
        self.measurements = list(measurements or [])
        self.advertising = bool(self.measurements)

    def weigh(self, m: WeightMeasurement) -> None:
        self.measurements.append(m)
        self.advertising = True

    def primary_services(self) -> tuple[str, ...]:
        return (WEIGHT_SCALE_SERVICE,)

    def own_chars(self) -> tuple[Char, ...]:
        return (
            Char.of(WEIGHT_MEASUREMENT, WEIGHT_SCALE_SERVICE, "indicate"),
            Char.of(WEIGHT_SCALE_FEATURE, WEIGHT_SCALE_SERVICE, "read"),
        )

    def read(self, uuid: str) -> bytes:
        if normalize_uuid(uuid) == WEIGHT_SCALE_FEATURE:
            return _FEATURES.to_bytes(4, "little")
        return super().read(uuid)

    def subscribe(self, uuid: str, enabled: bool) -> list[Action]:
        super().subscribe(uuid, enabled)
        if normalize_uuid(uuid) != WEIGHT_MEASUREMENT or not enabled:
            return []
        actions: list[Action] = [Notify(WEIGHT_MEASUREMENT, encode_weight(m))
                                 for m in self.measurements]
        self.measurements.clear()
        self.advertising = False
        return [*actions, StopAdvertising(), Disconnect()]
