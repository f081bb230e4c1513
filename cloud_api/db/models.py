"""ORM models of the relational store (SQLAlchemy 2, typed).

``patients.id`` is the opaque pseudonym gateways put on the wire; names and MRNs live
only here. ``readings.msg_id`` is both the primary key and the idempotency key of
ingest. Schema changes go through Alembic (``db/migrations``), never ``create_all``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from cloud_api.db.types import UtcDateTime

# Deterministic constraint names keep Alembic migrations portable (and SQLite batch
# mode able to find constraints again).
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BigInteger autoincrement on PostgreSQL, INTEGER PRIMARY KEY (rowid) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(), dict[str, Any]: JSON(),
    }


class Role(StrEnum):
    ORG_ADMIN = "org_admin"
    CLINICIAN = "clinician"
    NURSE = "nurse"
    FAMILY = "family"
    SERVICE = "service"


class Organization(Base):
    __tablename__ = "organizations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    # Set for family users: the one patient they may see.
    patient_id: Mapped[str | None] = mapped_column(ForeignKey("patients.id"))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[str] = mapped_column(String(64), primary_key=True, comment="wire pseudonym")
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(200))
    mrn: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]


gateway_patients = Table(
    "gateway_patients",
    Base.metadata,
    Column("gateway_id", ForeignKey("gateways.id"), primary_key=True),
    Column("patient_id", ForeignKey("patients.id"), primary_key=True),
)


class Gateway(Base):
    __tablename__ = "gateways"
    id: Mapped[str] = mapped_column(String(64), primary_key=True, comment="MQTT client id")
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    patients: Mapped[list[Patient]] = relationship(secondary=gateway_patients)


class ReadingRow(Base):
    __tablename__ = "readings"
    msg_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    gateway_id: Mapped[str] = mapped_column(ForeignKey("gateways.id"))
    kind: Mapped[str] = mapped_column(String(32))
    measured_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(index=True, comment="cloud receive time")
    device_key: Mapped[str] = mapped_column(String(200))
    simulated: Mapped[bool] = mapped_column(Boolean)
    body: Mapped[dict[str, Any]] = mapped_column(comment="the wire reading, as JSON")

    __table_args__ = (Index("ix_readings_patient_time", "patient_id", "measured_at", "msg_id"),)


class AlertRow(Base):
    """One row per alert_id holding its latest known state."""

    __tablename__ = "alerts"
    alert_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    gateway_id: Mapped[str | None] = mapped_column(ForeignKey("gateways.id"))
    rule_id: Mapped[str] = mapped_column(String(64))
    severity: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    raised_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    cleared_at: Mapped[datetime | None]
    simulated: Mapped[bool] = mapped_column(Boolean)
    last_msg_id: Mapped[str] = mapped_column(String(26))
    body: Mapped[dict[str, Any]]


class AlertEventRow(Base):
    """Every alert event (open / update / clear) as received; msg_id is idempotent."""

    __tablename__ = "alert_events"
    msg_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    alert_id: Mapped[str] = mapped_column(String(26), index=True)
    gateway_id: Mapped[str] = mapped_column(ForeignKey("gateways.id"))
    state: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    received_at: Mapped[datetime]
    body: Mapped[dict[str, Any]]


class GatewayEventRow(Base):
    __tablename__ = "gateway_events"
    msg_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    gateway_id: Mapped[str] = mapped_column(ForeignKey("gateways.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    received_at: Mapped[datetime]
    simulated: Mapped[bool] = mapped_column(Boolean)
    body: Mapped[dict[str, Any]]


class DeadLetterRow(Base):
    """A message or batch item we could not accept, kept byte for byte for a human."""

    __tablename__ = "dead_letters"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # sha256 of topic + payload + reason: a redelivered bad message is kept once.
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
    topic: Mapped[str] = mapped_column(String(255))
    gateway_id: Mapped[str | None] = mapped_column(String(64), comment="if known; unverified")
    msg_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes] = mapped_column(LargeBinary)


class AuditRow(Base):
    """Append-only: code only ever inserts (see db/audit.py)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64), comment="username, or 'cli'/'system'")
    actor_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(64))
    patient_id: Mapped[str | None] = mapped_column(String(64), index=True)
    detail: Mapped[dict[str, Any]]


# Feature areas keep their tables in their own packages; importing them here makes
# ``Base.metadata`` complete wherever the models are used (Alembic, schema checks).
import cloud_api.alerting.models  # noqa: E402, F401  (circular by design: needs Base above)
