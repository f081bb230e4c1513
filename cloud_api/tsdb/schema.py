"""Vitals → time-series points (docs/storage.md, research architecture.md §4.1).

One measurement per vital kind. Tags are the series identity and stay low-cardinality:
tenant, patient pseudonym, device (+ small enums such as ``meal`` or the ECG ``lead``).
Everything per-delivery (msg_id, receive times) is a *field*: a tag would turn a redelivered
reading into a second series and break idempotency. The timestamp is the measurement time,
so a redelivery overwrites the same point with the same values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from cloud_api.tsdb.base import FieldValue, SeriesPoint
from vitals.readings import (
    BloodPressure,
    BodyWeight,
    BpStatus,
    EcgStrip,
    Glucose,
    HeartRate,
    ReadingBase,
    SpO2,
)
from vitals.status import GatewayState, GatewayStatus

if TYPE_CHECKING:  # numpy/scipy stay out of ingest's import path until an ECG needs them
    from edge_rules.ecg.analysis import EcgAnalysis

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
# Bit i of the bp `status` field = the i-th BpStatus member, in declaration order (stable).
BP_STATUS_BITS: dict[BpStatus, int] = {flag: 1 << i for i, flag in enumerate(BpStatus)}

MEASUREMENTS = ("bp", "glucose", "heart_rate", "spo2", "weight", "ecg_summary", "gw_health")


def to_ms(moment: datetime) -> int:
    """Exact integer ms since the epoch (no float rounding)."""
    return (moment - _EPOCH) // _MS


@dataclass(frozen=True, slots=True)
class EcgMetrics:
    """What the ECG analysis found in a chunk; screening flags, not diagnoses."""

    hr_bpm: float | None = None
    hr_min_bpm: float | None = None
    hr_max_bpm: float | None = None
    rr_mean_ms: float | None = None
    beats: int | None = None
    quality: str | None = None
    af_suspected: bool | None = None
    pauses: int | None = None

    @classmethod
    def from_analysis(cls, analysis: EcgAnalysis) -> EcgMetrics:
        rr = analysis.rr_s
        return cls(
            hr_bpm=analysis.hr_bpm,
            hr_min_bpm=analysis.min_hr_bpm,
            hr_max_bpm=analysis.max_hr_bpm,
            rr_mean_ms=float(rr.mean() * 1000.0) if len(rr) else None,
            beats=len(analysis.beats),
            quality=analysis.quality.value,
            af_suspected=analysis.af_suspected,
            pauses=len(analysis.pauses),
        )


def _put(fields: dict[str, FieldValue], name: str, value: FieldValue | None) -> None:
    if value is not None:
        fields[name] = value


def _common(reading: ReadingBase) -> dict[str, FieldValue]:
    fields: dict[str, FieldValue] = {"simulated": reading.simulated, "msg_id": reading.msg_id}
    _put(fields, "seq", reading.seq)
    if reading.received_at is not None:
        fields["rx_ms"] = to_ms(reading.received_at)
    return fields


def _tags(reading: ReadingBase, tenant: str) -> dict[str, str]:
    return {"tenant": tenant, "patient": reading.patient, "device": reading.device.key}


def _opt_float(value: float | None) -> float | None:
    return None if value is None else float(value)


def points_for(
    reading: BloodPressure | Glucose | HeartRate | EcgStrip | SpO2 | BodyWeight,
    tenant: str,
    *,
    ecg: EcgMetrics | None = None,
) -> list[SeriesPoint]:
    """The points one reading becomes (one today; a list so a kind may fan out later)."""
    tags = _tags(reading, tenant)
    fields = _common(reading)
    measurement: str
    match reading:
        case BloodPressure():
            measurement = "bp"
            fields |= {"systolic": float(reading.systolic), "diastolic": float(reading.diastolic)}
            _put(fields, "map", _opt_float(reading.mean_arterial))
            _put(fields, "pulse", _opt_float(reading.pulse))
            fields["status"] = sum(BP_STATUS_BITS[f] for f in reading.status)
            fields["irregular"] = BpStatus.IRREGULAR_PULSE in reading.status
            _put(fields, "user_id", reading.user_id)
        case Glucose():
            measurement = "glucose"
            if reading.meal is not None:
                tags["meal"] = reading.meal.value
            fields["mg_dl"] = float(reading.mg_dl)
            _put(fields, "sample_type", reading.sample_type and reading.sample_type.value)
            _put(fields, "location", reading.sample_location and reading.sample_location.value)
            _put(fields, "range_flag", reading.range_flag and reading.range_flag.value)
            fields["control_solution"] = reading.control_solution
        case HeartRate():
            measurement = "heart_rate"
            fields["bpm"] = float(reading.bpm)
            if reading.rr_intervals_s:
                rr = reading.rr_intervals_s
                fields["rr_count"] = len(rr)
                fields["rr_mean_ms"] = 1000.0 * sum(rr) / len(rr)
            _put(fields, "sensor_contact", reading.sensor_contact)
            _put(fields, "energy_kj", reading.energy_expended_kj)
        case SpO2():
            measurement = "spo2"
            fields["spo2_pct"] = float(reading.spo2_pct)
            _put(fields, "pulse", _opt_float(reading.pulse))
            _put(fields, "perfusion_index", _opt_float(reading.perfusion_index))
        case BodyWeight():
            measurement = "weight"
            fields["kg"] = float(reading.kg)
            _put(fields, "bmi", _opt_float(reading.bmi))
            _put(fields, "height_m", _opt_float(reading.height_m))
            _put(fields, "user_id", reading.user_id)
        case EcgStrip():
            # No per-sample points: the waveform goes to the blob store under msg_id
            # (`chunk_ref`); the time series gets what a trend chart needs.
            measurement = "ecg_summary"
            tags["lead"] = reading.lead
            fields |= {
                "chunk_ref": reading.msg_id,
                "fs_hz": float(reading.fs_hz),
                "duration_s": float(reading.duration_s),
                "samples": len(reading.samples_uv),
                "lost_samples": sum(count for _, count in reading.gaps),
            }
            if ecg is not None:
                _put(fields, "hr", _opt_float(ecg.hr_bpm))
                _put(fields, "hr_min", _opt_float(ecg.hr_min_bpm))
                _put(fields, "hr_max", _opt_float(ecg.hr_max_bpm))
                _put(fields, "rr_mean_ms", _opt_float(ecg.rr_mean_ms))
                _put(fields, "beats", ecg.beats)
                _put(fields, "quality", ecg.quality)
                _put(fields, "af_suspected", ecg.af_suspected)
                _put(fields, "pauses", ecg.pauses)
        case _:
            raise TypeError(f"no time-series mapping for {type(reading).__name__}")
    return [SeriesPoint(measurement, tags, fields, to_ms(reading.measured_at))]


def gw_health_point(status: GatewayStatus, tenant: str) -> SeriesPoint:
    """Gateway heartbeat → ``gw_health`` (tags tenant, gw; timestamp = status time)."""
    fields: dict[str, FieldValue] = {
        "online": status.state is GatewayState.ONLINE,
        "evicted_total": status.evicted_total,
        "devices": len(status.devices),
        "devices_connected": sum(1 for d in status.devices if d.connected),
        "simulated": status.simulated,
    }
    _put(fields, "outbox_depth", status.outbox_depth)
    _put(fields, "outbox_bytes", status.outbox_bytes)
    _put(fields, "cpu_temp", _opt_float(status.cpu_temp_c))
    _put(fields, "disk_free_mb", _opt_float(status.disk_free_mb))
    _put(fields, "config_version", status.config_version)
    batteries = [d.battery_pct for d in status.devices if d.battery_pct is not None]
    if batteries:
        fields["battery_min"] = min(batteries)
    return SeriesPoint(
        "gw_health", {"tenant": tenant, "gw": status.gateway}, fields, to_ms(status.at)
    )
