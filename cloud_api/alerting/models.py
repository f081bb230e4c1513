"""Tables of the alert workflow (migration ``0003_alerts``), on the shared ORM ``Base``.

``alert_workflow`` holds the clinician-facing state of each row of ``alerts`` (which
keeps what the rule engine said). ``alert_activity`` is the append-only history of
every transition; its autoincrement ``id`` is also the SSE event id, so a dashboard
resumes from it with ``Last-Event-ID``. ``alert_deliveries`` has ONE row per (activity,
recipient, channel): inserting it is the claim that makes delivery exactly-once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cloud_api.db.models import Base, BigId


class WorkflowStatus:
    RAISED = "raised"
    DELIVERED = "delivered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    OPEN = (RAISED, DELIVERED)  # unacknowledged: these escalate
    ALL = (RAISED, DELIVERED, ACKNOWLEDGED, RESOLVED)


class AlertWorkflow(Base):
    __tablename__ = "alert_workflow"
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.alert_id"), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    patient_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    severity: Mapped[int] = mapped_column(Integer)
    raised_at: Mapped[datetime] = mapped_column(index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    next_escalation_at: Mapped[datetime | None] = mapped_column(index=True)
    snoozed_until: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    # Compare-and-set counter: every transition bumps it, so two racing writers can't both win.
    version: Mapped[int] = mapped_column(Integer, default=0)


class AlertActivity(Base):
    __tablename__ = "alert_activity"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(String(26), index=True)
    org_id: Mapped[int] = mapped_column(Integer)
    patient_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(80), comment="username, 'system' or 'gateway:<id>'")
    actor_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]]
    # Set once every recipient of this event has been handled (sent or given up).
    dispatched: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_alert_activity_pending", "dispatched", "id"),)


class AlertDelivery(Base):
    __tablename__ = "alert_deliveries"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("alert_activity.id"))
    recipient: Mapped[str] = mapped_column(String(64), comment="target id, e.g. 'target:3'")
    channel: Mapped[str] = mapped_column(String(16))
    alert_id: Mapped[str] = mapped_column(String(26), index=True)
    status: Mapped[str] = mapped_column(String(12), comment="claimed | sent | failed")
    claimed_by: Mapped[str] = mapped_column(String(64))
    claimed_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    log: Mapped[list[dict[str, Any]]] = mapped_column(JSON, comment="one entry per attempt")

    __table_args__ = (UniqueConstraint("activity_id", "recipient", "channel",
                                       name="uq_alert_deliveries_key"),)


class NotificationTarget(Base):
    """Where an organisation's alerts go: a webhook URL or an e-mail address, per tier."""

    __tablename__ = "notification_targets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    tier: Mapped[str] = mapped_column(String(64), comment="escalation tier name")
    channel: Mapped[str] = mapped_column(String(16), comment="webhook | email")
    address: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str | None] = mapped_column(String(200), comment="webhook HMAC key")
    min_severity: Mapped[int] = mapped_column(Integer, default=1)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class EscalationPolicyRow(Base):
    __tablename__ = "escalation_policies"
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    min_severity: Mapped[int] = mapped_column(Integer)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, comment='[{"tier", "after_s"}]')
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(64))


class GatewayPresence(Base):
    """Last status each gateway published (retained status, Last Will, heartbeats);
    written only by :func:`cloud_api.alerting.presence.record_status`."""

    __tablename__ = "gateway_presence"
    gateway_id: Mapped[str] = mapped_column(ForeignKey("gateways.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    boot_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(comment="status time stamped by the gateway")
    received_at: Mapped[datetime] = mapped_column(comment="last status or heartbeat seen")
    last_online_at: Mapped[datetime | None] = mapped_column(
        comment="received_at of the last 'online' status: anchors an offline episode")
    simulated: Mapped[bool] = mapped_column(Boolean, default=False)
    # Migration 0004_fleet (the fleet page): see cloud_api/alerting/presence.py.
    state_since: Mapped[datetime | None] = mapped_column(
        comment="received_at of the status that entered the current state")
    last_status: Mapped[dict[str, Any] | None] = mapped_column(
        comment="newest status by gateway time, as on the wire (outbox, devices, software)")


class WorklistItem(Base):
    """A non-paging to-do for clinicians (weekly home BP review, …)."""

    __tablename__ = "worklist_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    kind: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(16), comment="e.g. ISO week 2026-W48")
    created_at: Mapped[datetime]
    detail: Mapped[dict[str, Any]]
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("patient_id", "kind", "period",
                                       name="uq_worklist_items_key"),)
