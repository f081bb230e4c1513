"""What the people in the home can see without the internet: devices, last readings,
active alerts and the gateway's health — kept in memory, fed by the pipeline's hooks,
rendered by :mod:`gateway.statuspage`. Nothing here is needed to store or forward data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from vitals.alerts import Alert, AlertState
from vitals.readings import (
    BloodPressure,
    BodyWeight,
    EcgStrip,
    Glucose,
    HeartRate,
    Reading,
    SpO2,
)
from vitals.wire import GatewayEvent


def summary(reading: Reading) -> str:
    """One short human line per reading (units spelled out)."""
    if isinstance(reading, BloodPressure):
        pulse = f", pulse {reading.pulse:.0f}/min" if reading.pulse else ""
        return f"{reading.systolic:.0f}/{reading.diastolic:.0f} mmHg{pulse}"
    if isinstance(reading, Glucose):
        return f"glucose {reading.mg_dl:.0f} mg/dL ({reading.mg_dl / 18.016:.1f} mmol/L)"
    if isinstance(reading, HeartRate):
        return f"heart rate {reading.bpm:.0f}/min"
    if isinstance(reading, EcgStrip):
        secs = len(reading.samples_uv) / reading.fs_hz
        return f"ECG strip {secs:.0f} s"
    if isinstance(reading, SpO2):
        return f"SpO2 {reading.spo2_pct:.0f} %"
    if isinstance(reading, BodyWeight):
        return f"weight {reading.kg:.1f} kg"
    return str(reading.kind)  # pragma: no cover - the union is exhaustive


@dataclass(frozen=True)
class DeviceRow:
    device_id: str
    kind: str
    patient: str
    simulated: bool
    address: str | None


@dataclass(frozen=True)
class LastReading:
    at: datetime
    text: str
    simulated: bool
    patient: str


@dataclass
class LocalView:
    devices: list[DeviceRow] = field(default_factory=list)
    #: device id → last reading from that device
    last: dict[str, LastReading] = field(default_factory=dict)
    #: alert_id → the latest event of each open alert
    alerts: dict[str, Alert] = field(default_factory=dict)
    events: list[GatewayEvent] = field(default_factory=list)
    health: dict[str, Any] = field(default_factory=dict)

    def item(self, device_id: str, item: Reading | GatewayEvent) -> None:
        if isinstance(item, GatewayEvent):
            self.events = [*self.events[-9:], item]
            return
        self.last[device_id] = LastReading(
            item.measured_at, summary(item), item.simulated, item.patient)

    def alerts_seen(self, alerts: Any) -> None:
        for alert in alerts:
            if alert.state is AlertState.CLEARED:
                self.alerts.pop(alert.alert_id, None)
            else:
                self.alerts[alert.alert_id] = alert
