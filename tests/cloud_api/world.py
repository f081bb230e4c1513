"""A small consortium for access tests, built straight into the database.

demo-clinic (community) and other-clinic (hospital) form consortium ``metro``.

| user | role | org | teams | sees clinically |
|---|---|---|---|---|
| demo | clinician | demo-clinic | demo-team | demo-patient-1, ref-patient |
| nurse1 | nurse | demo-clinic | demo-team | demo-patient-1, ref-patient |
| admin1 | org_admin | demo-clinic | — | nobody (manages demo-clinic) |
| family1 | family | demo-clinic | — | demo-patient-1 |
| svc | service | demo-clinic | — | nobody |
| otherdoc | clinician | other-clinic | other-team | other-patient, ref-patient (referred) |
| otheradmin | org_admin | other-clinic | — | nobody (manages other-clinic) |
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cloud_api.db import care
from cloud_api.db.access_models import CareTeam, OrgLevel, Referral
from cloud_api.db.directory import (
    DEMO_PATIENT,
    DEMO_TEAM,
    create_patient,
    create_user,
    register_gateway,
)
from cloud_api.db.engine import session_factory
from cloud_api.db.models import Organization, Patient, Role, User
from cloud_api.security import issue_token

SECRET = "test-secret-of-at-least-32-bytes-length"
PASSWORD = "correct horse"
REF_PATIENT = "ref-patient"
OTHER_PATIENT = "other-patient"
_counter = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_counter)}"


@dataclass
class World:
    engine: Engine
    users: dict[str, int]
    demo_team: int
    other_team: int
    ref_referral: int
    _tokens: dict[str, dict[str, str]] = field(default_factory=dict)

    def headers(self, username: str) -> dict[str, str]:
        if username in self._tokens:
            return self._tokens[username]
        with Session(self.engine) as db:
            user = db.get(User, self.users[username])
            assert user is not None
            token, _ = issue_token(SECRET, user.id, user.role, 900)
        self._tokens[username] = {"Authorization": f"Bearer {token}"}
        return self._tokens[username]

    def session(self) -> Session:
        return session_factory(self.engine)()

    def fresh_referred_patient(self) -> tuple[str, int]:
        """A new demo-clinic patient on demo-team, referred to other-team; (id, referral)."""
        with session_factory(self.engine).begin() as db:
            pid = unique("rp")
            return pid, _referred(db, pid, self.demo_team, self.other_team)


def _referred(db: Session, pid: str, from_team: int, to_team: int) -> int:
    patient = create_patient(db, "demo-clinic", pid, f"Patient {pid}")
    team = db.get(CareTeam, from_team)
    assert team is not None
    care.add_to_panel(db, team, patient)
    demo = db.scalar(select(User).where(User.username == "demo"))
    assert demo is not None
    care.grant_consent(db, patient, "referral", "other-clinic", demo)
    return care.refer(db, demo, pid, to_team, "test referral").id


def build_world(engine: Engine) -> World:
    """On top of the ``engine`` fixture (demo-clinic + other-clinic seeded)."""
    with session_factory(engine).begin() as db:
        demo_org = db.scalar(select(Organization).where(Organization.slug == "demo-clinic"))
        other_org = db.scalar(select(Organization).where(Organization.slug == "other-clinic"))
        assert demo_org is not None and other_org is not None
        care.join_consortium(db, demo_org, "metro", OrgLevel.COMMUNITY)
        care.join_consortium(db, other_org, "metro", OrgLevel.HOSPITAL)
        demo_team = db.scalar(select(CareTeam).where(CareTeam.name == DEMO_TEAM))
        assert demo_team is not None
        made = {
            "nurse1": create_user(db, "demo-clinic", "nurse1", PASSWORD, Role.NURSE),
            "admin1": create_user(db, "demo-clinic", "admin1", PASSWORD, Role.ORG_ADMIN),
            "family1": create_user(db, "demo-clinic", "family1", PASSWORD, Role.FAMILY,
                                   DEMO_PATIENT),
            "svc": create_user(db, "demo-clinic", "svc", PASSWORD, Role.SERVICE),
            "otherdoc": create_user(db, "other-clinic", "otherdoc", PASSWORD, Role.CLINICIAN),
            "otheradmin": create_user(db, "other-clinic", "otheradmin", PASSWORD,
                                      Role.ORG_ADMIN),
        }
        demo = db.scalar(select(User).where(User.username == "demo"))
        assert demo is not None
        made["demo"] = demo
        care.add_member(db, demo_team, made["nurse1"])
        other_team = care.create_team(db, other_org.id, "other-team")
        care.add_member(db, other_team, made["otherdoc"])
        other_patient = db.get(Patient, OTHER_PATIENT)
        assert other_patient is not None
        care.add_to_panel(db, other_team, other_patient)
        create_patient(db, "demo-clinic", REF_PATIENT, "Referred Patient")
        register_gateway(db, "gw-ref", [REF_PATIENT])
        ref = _referred_existing(db, demo, demo_team, other_team.id)
        # demo-patient-1 has a consent for the hospital but is not referred.
        dp1 = db.get(Patient, DEMO_PATIENT)
        assert dp1 is not None
        care.grant_consent(db, dp1, "referral", "other-clinic", demo)
        return World(engine, {k: u.id for k, u in made.items()}, demo_team.id, other_team.id,
                     ref)


def _referred_existing(db: Session, demo: User, team: CareTeam, to_team: int) -> int:
    patient = db.get(Patient, REF_PATIENT)
    assert patient is not None
    care.add_to_panel(db, team, patient)
    care.grant_consent(db, patient, "referral", "other-clinic", demo)
    return care.refer(db, demo, REF_PATIENT, to_team, "test referral").id


__all__ = ["Referral", "World", "build_world"]
