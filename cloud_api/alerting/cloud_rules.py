"""Rules only the cloud can evaluate (clinical.md §1.4: a dead gateway cannot say so).

* ``gateway_offline`` (warning): the gateway's retained status went ``offline`` (its
  Last Will) or no status/heartbeat arrived for ``offline_after_s`` (default 10 min,
  clinical.md §2.5 #8). One alert per patient the gateway serves; resolved by the
  system when the gateway is back online.
* ``no_data_device`` (info): a device that sent readings in the last 30 days has been
  silent for ``no_data_after_s`` (default 48 h, §2.5 #8 adherence nudge); resolved when
  a newer reading arrives.
* weekly worklist: 7-day home BP by the 7-2-2 protocol ≥ 135/85 (§2.1, §2.5 #4) becomes
  a worklist item for the ISO week, never a page.

Alert ids derive from the episode (``derived_ulid``), so every replica running this
computes the same id and the insert-if-absent keeps one alert.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session, sessionmaker

from cloud_api.alerting.clock import Clock
from cloud_api.alerting.ingest_seam import open_orphans
from cloud_api.alerting.lifecycle import SYSTEM, open_workflow, resolve
from cloud_api.alerting.models import AlertWorkflow, GatewayPresence, WorkflowStatus, WorklistItem
from cloud_api.alerting.presence import OFFLINE_AFTER_S, presence_of
from cloud_api.alerting.presence import record_status as record_status  # re-exported
from cloud_api.db.engine import READ_ONLY
from cloud_api.db.models import AlertEventRow, AlertRow, Patient, ReadingRow, gateway_patients
from cloud_api.db.upsert import insert_ignore
from edge_rules.home_bp import home_bp_722
from edge_rules.ids import derived_ulid
from vitals.alerts import Alert, AlertState, Severity
from vitals.readings import BloodPressure

log = logging.getLogger(__name__)

RULE_VERSION = "cloud-1"
OFFLINE_SOURCE = ("clinical.md §1.4/§2.5 #8: gateway heartbeat missing > 10 min is "
                  "cloud-polled (Tidepool no-communication, Nightscout timeago)")
NO_DATA_SOURCE = "clinical.md §2.5 #8: spot devices, no reading 48 h = adherence nudge"
HOME_BP_SOURCE = ("7-2-2 home BP protocol; home mean ≥ 135/85 mmHg (China HBPM guidance, "
                  "ESC/ESH); clinical.md §2.1")


@dataclass(frozen=True, slots=True)
class CloudRuleConfig:
    offline_after_s: float = OFFLINE_AFTER_S
    no_data_after_s: float = 48 * 3600.0
    device_lookback_days: int = 30
    bp_threshold: tuple[float, float] = (135.0, 85.0)
    patient_tz: str = "UTC"
    # The scans over readings are heavier than the presence check and need no second-level
    # freshness: run them at most this often (per process; they are idempotent anyway).
    scan_every_s: float = 60.0


class CloudRules:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock,
                 config: CloudRuleConfig | None = None) -> None:
        self.sessions, self.clock, self.config = sessions, clock, config or CloudRuleConfig()
        self._last_scan: datetime | None = None

    def run_once(self) -> None:
        now = self.clock.now()
        with self.sessions.begin() as db:
            open_orphans(db, now)
        with self.sessions.begin() as db:
            self.gateways(db, now)
        if self._last_scan is not None and \
                now - self._last_scan < timedelta(seconds=self.config.scan_every_s):
            return
        self._last_scan = now
        # The scans read every recent reading (seconds at 1 000 patients): they run in a
        # read-only transaction, which on SQLite takes no write lock, and only what must
        # change is written afterwards in a short transaction. Holding the single writer
        # lock through the scans stalled every other writer (API audit, ingest) for seconds.
        with self._read_only() as db:
            silent, devices_with_alerts = self.device_scan(db, now)
            items = self.worklist_scan(db, now)
        with self.sessions.begin() as db:
            self.devices(db, now, silent, devices_with_alerts)
        if items:
            with self.sessions.begin() as db:
                self.worklist(db, items)

    @contextmanager
    def _read_only(self) -> Iterator[Session]:
        with self.sessions() as db:
            db.connection(execution_options={READ_ONLY: True})
            yield db

    # gateway offline ----------------------------------------------------------------
    def gateways(self, db: Session, now: datetime) -> None:
        for p in db.scalars(select(GatewayPresence)):
            state = presence_of(p, now, self.config.offline_after_s)  # same as the fleet API
            down = not state.online
            patients = db.scalars(select(gateway_patients.c.patient_id)
                                  .where(gateway_patients.c.gateway_id == p.gateway_id)).all()
            for patient in patients:
                if not down:
                    self._clear(db, patient, "gateway_offline", p.gateway_id, now,
                                "gateway back online")
                    continue
                why = ("its Last Will reported it offline" if state.reason == "reported_offline"
                       else f"no status for more than {self.config.offline_after_s / 60:.0f} min")
                anchor = p.last_online_at or p.received_at
                self._raise(db, now, patient=patient, gateway=p.gateway_id,
                            rule_id="gateway_offline", severity=Severity.WARNING,
                            key=f"gateway_offline|{p.gateway_id}|{patient}|{anchor.isoformat()}",
                            anchor=anchor, simulated=p.simulated,
                            title=f"Gateway {p.gateway_id} offline",
                            explanation=f"Gateway {p.gateway_id} is offline: {why}; last "
                                        f"heard from at {p.received_at.isoformat()}.",
                            thresholds={"offline_after_s": self.config.offline_after_s},
                            source=OFFLINE_SOURCE)

    # no data per device ---------------------------------------------------------------
    def device_scan(self, db: Session, now: datetime) -> tuple[list[tuple[Any, ...]],
                                                                set[tuple[str, str]]]:
        """(patient, device, kind, last_at, gateway, simulated) of every device seen in the
        lookback window, and the (patient, gateway) pairs with an uncleared no-data alert."""
        since = now - timedelta(days=self.config.device_lookback_days)
        last = func.max(ReadingRow.measured_at)
        rows = db.execute(
            select(ReadingRow.patient_id, ReadingRow.device_key, ReadingRow.kind, last,
                   func.max(ReadingRow.gateway_id), func.max(cast(ReadingRow.simulated, Integer)))
            .where(ReadingRow.measured_at >= since)
            .group_by(ReadingRow.patient_id, ReadingRow.device_key, ReadingRow.kind)).all()
        open_pairs = db.execute(
            select(AlertRow.patient_id, AlertRow.gateway_id).distinct()
            .where(AlertRow.rule_id == "no_data_device",
                   AlertRow.state != AlertState.CLEARED.value)).all()
        return [tuple(r) for r in rows], {(p, g) for p, g in open_pairs if g is not None}

    def devices(self, db: Session, now: datetime, rows: list[tuple[Any, ...]],
                with_alerts: set[tuple[str, str]]) -> None:
        silent = now - timedelta(seconds=self.config.no_data_after_s)
        for patient, device, kind, last_at, gateway, simulated in rows:
            key = f"no_data_device|{patient}|{device}|{kind}"
            if last_at >= silent:
                if (patient, gateway) in with_alerts:  # else nothing to clear
                    self._clear(db, patient, "no_data_device", gateway, now,
                                "readings resumed", key_prefix=key)
                continue
            hours = self.config.no_data_after_s / 3600
            self._raise(db, now, patient=patient, gateway=gateway, rule_id="no_data_device",
                        severity=Severity.INFO, key=f"{key}|{last_at.isoformat()}",
                        anchor=last_at, simulated=bool(simulated),
                        title=f"No {kind} reading for {hours:.0f} h",
                        explanation=f"Device {device} sent its last {kind} reading at "
                                    f"{last_at.isoformat()}, more than {hours:.0f} h ago.",
                        thresholds={"no_data_after_s": self.config.no_data_after_s},
                        source=NO_DATA_SOURCE, extra={"device_key": device, "kind": kind})

    # weekly worklist -----------------------------------------------------------------
    def worklist_scan(self, db: Session, now: datetime) -> list[dict[str, Any]]:
        """Worklist rows to insert: patients over the 7-2-2 threshold this ISO week who do
        not have their item yet."""
        since = now - timedelta(days=8)
        year, week, _ = now.isocalendar()
        period = f"{year}-W{week:02d}"
        have = set(db.scalars(select(WorklistItem.patient_id).where(
            WorklistItem.kind == "home_bp_uncontrolled", WorklistItem.period == period)))
        rows = db.execute(select(ReadingRow.patient_id, ReadingRow.body).where(
            ReadingRow.kind == "blood_pressure", ReadingRow.measured_at >= since,
            ReadingRow.measured_at <= now)).all()
        by_patient: dict[str, list[BloodPressure]] = {}
        for patient, body in rows:
            if patient not in have:
                by_patient.setdefault(patient, []).append(BloodPressure.model_validate(body))
        sys_t, dia_t = self.config.bp_threshold
        items: list[dict[str, Any]] = []
        for patient, readings in by_patient.items():
            s = home_bp_722(readings, self.config.patient_tz, threshold_systolic=sys_t,
                            threshold_diastolic=dia_t)
            if not s.uncontrolled:
                continue
            items.append({
                "patient_id": patient, "kind": "home_bp_uncontrolled", "period": period,
                "created_at": now,
                "detail": {"mean_systolic": s.mean_systolic, "mean_diastolic": s.mean_diastolic,
                           "days_used": [d.isoformat() for d in s.days_used],
                           "sessions_used": s.sessions_used,
                           "threshold": [sys_t, dia_t], "source": HOME_BP_SOURCE},
                "done_at": None, "done_by": None, "note": None,
            })
        return items

    def worklist(self, db: Session, items: list[dict[str, Any]]) -> None:
        orgs: dict[str, int] = {pid: org for pid, org in db.execute(
            select(Patient.id, Patient.org_id).where(
                Patient.id.in_([i["patient_id"] for i in items])))}
        insert_ignore(db, WorklistItem.__table__,  # type: ignore[arg-type]
                      [{**i, "org_id": orgs[i["patient_id"]]} for i in items])

    # helpers ---------------------------------------------------------------------------
    def _raise(self, db: Session, now: datetime, *, patient: str, gateway: str, rule_id: str,
               severity: Severity, key: str, anchor: datetime, simulated: bool, title: str,
               explanation: str, thresholds: dict[str, float], source: str,
               extra: dict[str, Any] | None = None) -> None:
        alert_id = derived_ulid(anchor, key)
        if db.get(AlertRow, alert_id) is not None:
            return
        alert = Alert(alert_id=alert_id, msg_id=derived_ulid(anchor, key + "|open"),
                      patient=patient, rule_id=rule_id, rule_version=RULE_VERSION,
                      severity=severity, title=title, explanation=explanation,
                      thresholds=thresholds, source=source, raised_at=now, updated_at=now,
                      simulated=simulated, origin="cloud")
        body = {**alert.model_dump(mode="json", exclude_none=True), **(extra or {})}
        if not insert_ignore(db, AlertRow.__table__, [{  # type: ignore[arg-type]
            "alert_id": alert_id, "patient_id": patient, "gateway_id": gateway,
            "rule_id": rule_id, "severity": int(severity), "state": AlertState.OPEN.value,
            "title": title, "raised_at": now, "updated_at": now, "cleared_at": None,
            "simulated": simulated, "last_msg_id": alert.msg_id, "body": body,
        }]):
            return  # another replica raised it first
        insert_ignore(db, AlertEventRow.__table__, [{  # type: ignore[arg-type]
            "msg_id": alert.msg_id, "alert_id": alert_id, "gateway_id": gateway,
            "state": AlertState.OPEN.value, "at": now, "received_at": now, "body": body,
        }])
        row = db.get(AlertRow, alert_id)
        assert row is not None
        log.info("cloud rule %s raised %s for %s", rule_id, alert_id, patient)
        open_workflow(db, row, now, SYSTEM)

    def _clear(self, db: Session, patient: str, rule_id: str, gateway: str, now: datetime,
               reason: str, key_prefix: str | None = None) -> None:
        rows = db.execute(
            select(AlertWorkflow, AlertRow).join(AlertRow,
                                                 AlertRow.alert_id == AlertWorkflow.alert_id)
            .where(AlertWorkflow.patient_id == patient, AlertRow.rule_id == rule_id,
                   AlertRow.gateway_id == gateway, AlertRow.state != AlertState.CLEARED.value)
        ).all()
        for wf, alert in rows:
            if key_prefix and alert.body.get("device_key") != key_prefix.split("|")[2]:
                continue
            alert.state, alert.cleared_at, alert.updated_at = AlertState.CLEARED.value, now, now
            if wf.status != WorkflowStatus.RESOLVED:
                resolve(db, wf, SYSTEM, now, reason=reason)
