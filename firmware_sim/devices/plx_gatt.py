"""Pulse oximeter (Pulse Oximeter service 0x1822).

Stored spot checks are indicated (0x2A5E) when the central subscribes, like a cuff's
burst; a continuous measurement (0x2A5F) is notified once a second while subscribed.
PLX Features 0x2A60 = timestamp support only (no optional masks follow).
"""

from __future__ import annotations

import datetime as dt

from device_drivers.codecs.date_time import DateTime
from device_drivers.codecs.numbers import sfloat
from device_drivers.codecs.plx import (
    PlxContinuous,
    PlxSpotCheck,
    encode_plx_continuous,
    encode_plx_spot_check,
)
from device_drivers.uuids import (
    PLX_CONTINUOUS_MEASUREMENT,
    PLX_SPOT_CHECK_MEASUREMENT,
    normalize_uuid,
)
from firmware_sim.devices.gatt_model import Action, Char, DeviceModel, Notify

PLX_SERVICE = normalize_uuid("1822")
PLX_FEATURES = normalize_uuid("2a60")
_TIMESTAMP_SUPPORTED = 0x0008


def spot_check(spo2: int, pulse: int, at: dt.datetime) -> PlxSpotCheck:
    return PlxSpotCheck(sfloat(spo2), sfloat(pulse), timestamp=DateTime.from_datetime(at))


class PulseOximeter(DeviceModel):
    kind = "spo2"

    def __init__(
        self, spot_checks: list[PlxSpotCheck] | None = None, *, spo2: int = 97, pulse: int = 68,
        address: str = "C0:FF:EE:00:00:05", name: str = "HomeRPM-PLX",
    ) -> None:
        super().__init__(address=address, name=name)
        self.model_number = "SimOx"
        self.spot_checks = list(spot_checks or [])
        self.spo2, self.pulse = spo2, pulse

    def primary_services(self) -> tuple[str, ...]:
        return (PLX_SERVICE,)

    def own_chars(self) -> tuple[Char, ...]:
        return (
            Char.of(PLX_SPOT_CHECK_MEASUREMENT, PLX_SERVICE, "indicate"),
            Char.of(PLX_CONTINUOUS_MEASUREMENT, PLX_SERVICE, "notify"),
            Char.of(PLX_FEATURES, PLX_SERVICE, "read"),
        )

    def read(self, uuid: str) -> bytes:
        if normalize_uuid(uuid) == PLX_FEATURES:
            return _TIMESTAMP_SUPPORTED.to_bytes(2, "little")
        return super().read(uuid)

    def subscribe(self, uuid: str, enabled: bool) -> list[Action]:
        super().subscribe(uuid, enabled)
        uuid = normalize_uuid(uuid)
        if uuid == PLX_CONTINUOUS_MEASUREMENT:
            self.stream_period = 1.0 if enabled else None
        if uuid == PLX_SPOT_CHECK_MEASUREMENT and enabled:
            return [Notify(uuid, encode_plx_spot_check(s)) for s in self.spot_checks]
        return []

    def tick(self) -> list[Action]:
        value = PlxContinuous(sfloat(self.spo2), sfloat(self.pulse))
        return [Notify(PLX_CONTINUOUS_MEASUREMENT, encode_plx_continuous(value))]
