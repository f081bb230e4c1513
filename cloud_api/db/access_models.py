"""ORM models of identity and access across a consortium, gateways' credentials and devices,
threshold versions and config pushes (Alembic revision ``0002_access``).

Kept apart from ``models.py`` so feature areas can add tables without editing one file.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cloud_api.db.models import Base, BigId


class OrgLevel(StrEnum):
    """Where an organisation sits in its consortium (community clinics refer upwards)."""

    COMMUNITY = "community"
    HOSPITAL = "hospital"


class Consortium(Base):
    __tablename__ = "consortia"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class ConsortiumMember(Base):
    """An organisation's membership (at most one consortium per organisation)."""

    __tablename__ = "consortium_members"
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    consortium_id: Mapped[int] = mapped_column(ForeignKey("consortia.id"), index=True)
    level: Mapped[str] = mapped_column(String(16))


class CareTeam(Base):
    __tablename__ = "care_teams"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    __table_args__ = (UniqueConstraint("org_id", "name", name="uq_care_teams_org_name"),)


care_team_members = Table(
    "care_team_members",
    Base.metadata,
    Column("team_id", ForeignKey("care_teams.id"), primary_key=True),
    Column("user_id", ForeignKey("users.id"), primary_key=True, index=True),
)

# A team's panel: the patients it looks after (same organisation as the team).
team_patients = Table(
    "team_patients",
    Base.metadata,
    Column("team_id", ForeignKey("care_teams.id"), primary_key=True),
    Column("patient_id", ForeignKey("patients.id"), primary_key=True, index=True),
)


class Consent(Base):
    """A patient's consent for one purpose, granted to one organisation."""

    __tablename__ = "consents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    granted_to_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    granted_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))


class Referral(Base):
    """A patient referred from a (community) team to a (hospital) team; open until ended."""

    __tablename__ = "referrals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    from_team_id: Mapped[int] = mapped_column(ForeignKey("care_teams.id"))
    to_team_id: Mapped[int] = mapped_column(ForeignKey("care_teams.id"), index=True)
    consent_id: Mapped[int] = mapped_column(ForeignKey("consents.id"))
    reason: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class RefreshToken(Base):
    """A refresh token, stored as its sha256 only; rotation revokes the old one."""

    __tablename__ = "refresh_tokens"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # All tokens descending from one login share a family; reuse of a rotated token
    # (a stolen copy) revokes the whole family.
    family: Mapped[str] = mapped_column(String(32), index=True)
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class GatewayCredential(Base):
    """A gateway's MQTT secret as mosquitto's ``$7$`` hash; revoked ones stay for the record."""

    __tablename__ = "gateway_credentials"
    gateway_id: Mapped[str] = mapped_column(ForeignKey("gateways.id"), primary_key=True)
    mqtt_hash: Mapped[str] = mapped_column(String(255))
    issued_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class DeviceRow(Base):
    """A BLE sensor paired to a gateway for one patient."""

    __tablename__ = "devices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gateway_id: Mapped[str] = mapped_column(ForeignKey("gateways.id"), index=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    make: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(17), comment="Bluetooth address")
    serial: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]


class ThresholdVersion(Base):
    """One version of a patient's rule override layer (clinician or family)."""

    __tablename__ = "threshold_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    layer: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    rules: Mapped[dict[str, Any]]
    timezone: Mapped[str | None] = mapped_column(String(64))
    quiet_hours: Mapped[list[Any] | None] = mapped_column(JSON, comment="clinician layer only")
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    effective_at: Mapped[datetime]
    created_at: Mapped[datetime]
    __table_args__ = (
        UniqueConstraint("patient_id", "layer", "version", name="uq_threshold_versions_plv"),
    )


class ConfigPush(Base):
    """The newest config for a gateway and whether the broker has it (retried while pending)."""

    __tablename__ = "config_pushes"
    gateway_id: Mapped[str] = mapped_column(ForeignKey("gateways.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(Text, comment="encoded vitals.wire.ConfigMessage")
    status: Mapped[str] = mapped_column(String(16), comment="pending | published")
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]
    published_at: Mapped[datetime | None]


class UserPreference(Base):
    __tablename__ = "user_preferences"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    bp_unit: Mapped[str] = mapped_column(String(8))
    glucose_unit: Mapped[str] = mapped_column(String(8))
