"""Blood-pressure cuff (Blood Pressure service 0x1810) as a GATT device model.

Behaviour of BLS 1.0 cuffs in the field (research ble.md §1.2): the cuff advertises
only for a while after a measurement; when the central enables indications on 0x2A35 it
pushes its stored results as a burst and then disconnects by itself. ``send_all`` picks
the SilverCrest style (every stored record, every time — the gateway must deduplicate)
or the Omron style (only records not sent before). A fresh measurement is preceded by
Intermediate Cuff Pressure notifications (0x2A36) when the central listens to them.

This is the GATT side of a cuff (storage, burst, disconnect); the measured values
themselves can come from the scenario cuff in ``bp_cuff.py`` (see ``catalog.py``).
"""

from __future__ import annotations

import datetime as dt

from device_drivers.codecs.bp import (
    BloodPressureMeasurement,
    BpFeature,
    BpMeasurementStatus,
    IntermediateCuffPressure,
    encode_bp_feature,
    encode_bp_measurement,
    encode_intermediate_cuff_pressure,
)
from device_drivers.codecs.date_time import DateTime
from device_drivers.codecs.numbers import MderSpecial, sfloat
from device_drivers.quirks import NO_QUIRKS, Quirks, quirks_for
from device_drivers.uuids import normalize_uuid
from firmware_sim.devices.gatt_model import (
    Action,
    Char,
    DeviceModel,
    Disconnect,
    Notify,
    StopAdvertising,
)
from vitals.units import PressureUnit

BP_SERVICE = normalize_uuid("1810")
BPM = normalize_uuid("2a35")
ICP = normalize_uuid("2a36")
BP_FEATURE = normalize_uuid("2a49")


def bp_record(
    systolic: int,
    diastolic: int,
    pulse: int | None = 72,
    *,
    at: dt.datetime | None = None,
    user_id: int | None = 1,
    status: int | None = 0,
    mean_arterial: int | None = None,
) -> BloodPressureMeasurement:
    """A measurement in mmHg as a cuff would store it (MAP computed if not given)."""
    when = at or dt.datetime.now().replace(microsecond=0)
    mean = mean_arterial
    if mean is None:
        mean = round(diastolic + (systolic - diastolic) / 3)
    return BloodPressureMeasurement(
        unit=PressureUnit.MMHG,
        systolic=sfloat(systolic),
        diastolic=sfloat(diastolic),
        mean_arterial=sfloat(mean),
        timestamp=DateTime.from_datetime(when),
        pulse_rate=None if pulse is None else sfloat(pulse),
        user_id=user_id,
        status=None if status is None else BpMeasurementStatus(status),
    )


class GattBpCuff(DeviceModel):
    kind = "bp"

    def __init__(
        self,
        records: list[BloodPressureMeasurement] | None = None,
        *,
        address: str = "C0:FF:EE:00:00:01",
        name: str = "HomeRPM-BP",
        manufacturer: str = "HomeRPM",
        model_number: str = "SimCuff",
        send_all: bool = False,
        disconnect_after_burst: bool = True,
        icp_steps: int = 3,
    ) -> None:
        super().__init__(address=address, name=name)
        self.manufacturer = manufacturer
        self.model_number = model_number
        self.quirks: Quirks = quirks_for(manufacturer, model_number)
        self.records: list[BloodPressureMeasurement] = list(records or [])
        self.sent_upto = 0  # records[:sent_upto] went out in an earlier burst
        self.send_all = send_all
        self.disconnect_after_burst = disconnect_after_burst
        self.icp_steps = icp_steps
        self.fresh = bool(self.records)  # a measurement taken since the last burst
        self.advertising = bool(self.records)
        self.feature = BpFeature.BODY_MOVEMENT_DETECTION | BpFeature.IRREGULAR_PULSE_DETECTION

    @classmethod
    def beurer_bm85(cls, records: list[BloodPressureMeasurement], **kw: object) -> GattBpCuff:
        """A cuff that sends the Beurer BM85's non-conformant bytes (see quirks.toml)."""
        cuff = cls(records, manufacturer="Beurer", model_number="BM85", **kw)  # type: ignore[arg-type]
        if cuff.quirks is NO_QUIRKS:
            raise RuntimeError("no BM85 quirk profile found")
        return cuff

    def measure(self, record: BloodPressureMeasurement) -> None:
        """The patient takes a measurement: store it and start advertising."""
        self.records.append(record)
        self.fresh = True
        self.advertising = True

    def primary_services(self) -> tuple[str, ...]:
        return (BP_SERVICE,)

    def own_chars(self) -> tuple[Char, ...]:
        return (
            Char.of(BPM, BP_SERVICE, "indicate"),
            Char.of(ICP, BP_SERVICE, "notify"),
            Char.of(BP_FEATURE, BP_SERVICE, "read"),
        )

    def read(self, uuid: str) -> bytes:
        if normalize_uuid(uuid) == BP_FEATURE:
            return encode_bp_feature(self.feature, self.quirks)
        return super().read(uuid)

    def _cuff_pressures(self, target: BloodPressureMeasurement) -> list[bytes]:
        sys_ = target.systolic
        top = 180.0 if isinstance(sys_, MderSpecial) else sys_.value + 30
        frames = []
        for step in range(1, self.icp_steps + 1):
            icp = IntermediateCuffPressure(
                unit=target.unit,
                systolic=sfloat(round(top * step / self.icp_steps)),
                diastolic=MderSpecial.NAN,
                mean_arterial=MderSpecial.NAN,
                user_id=target.user_id,
            )
            frames.append(encode_intermediate_cuff_pressure(icp))
        return frames

    def subscribe(self, uuid: str, enabled: bool) -> list[Action]:
        super().subscribe(uuid, enabled)
        if normalize_uuid(uuid) != BPM or not enabled:
            return []
        actions: list[Action] = []
        if self.fresh and ICP in self.subscribed and self.records:
            actions += [Notify(ICP, f) for f in self._cuff_pressures(self.records[-1])]
        batch = self.records if self.send_all else self.records[self.sent_upto :]
        actions += [Notify(BPM, encode_bp_measurement(r, self.quirks)) for r in batch]
        self.sent_upto = len(self.records)
        self.fresh = False
        self.advertising = False
        actions.append(StopAdvertising())
        if self.disconnect_after_burst:
            actions.append(Disconnect())
        return actions
