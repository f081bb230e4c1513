"""Referral and refer-back, consent revocation, refresh-token rotation, family thresholds,
unit preferences and the append-only audit log."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from cloud_api.db.models import AuditRow
from tests.cloud_api.api.test_app import store_readings
from tests.cloud_api.world import PASSWORD, World


def _new_patient_on_demo_team(api: TestClient, world: World, pid: str) -> None:
    admin = world.headers("admin1")
    assert api.post("/api/v1/patients", headers=admin,
                    json={"id": pid, "display_name": "Referral Case"}).status_code == 201
    r = api.post(f"/api/v1/admin/teams/{world.demo_team}/patients", headers=admin,
                 json={"patient_id": pid})
    assert r.status_code == 200


def _sees(api: TestClient, world: World, user: str, pid: str) -> bool:
    r = api.get(f"/api/v1/patients/{pid}/readings", headers=world.headers(user))
    assert r.status_code in (200, 404)
    return r.status_code == 200


def test_referral_grants_full_history_and_refer_back_revokes(api: TestClient, world: World) -> None:
    pid = "p-refer"
    _new_patient_on_demo_team(api, world, pid)
    store_readings(world.engine, 3, patient=pid, gateway="gw-demo-1")
    demo = world.headers("demo")
    body = {"to_team_id": world.other_team, "reason": "resistant hypertension"}
    # No consent for the hospital yet: refused with the reason.
    r = api.post(f"/api/v1/patients/{pid}/referrals", headers=demo, json=body)
    assert r.status_code == 422 and "consent" in r.json()["detail"]
    assert not _sees(api, world, "otherdoc", pid)
    r = api.post(f"/api/v1/patients/{pid}/consents", headers=demo,
                 json={"purpose": "referral", "granted_to_org": "other-clinic"})
    assert r.status_code == 201
    consent = r.json()["id"]
    r = api.post(f"/api/v1/patients/{pid}/referrals", headers=demo, json=body)
    assert r.status_code == 201
    referral = r.json()["id"]
    page = api.get(f"/api/v1/patients/{pid}/readings", headers=world.headers("otherdoc")).json()
    assert len(page["items"]) == 3  # the full history, not only what arrives after referral
    # Refer back (by the hospital): the hospital loses access, the clinic keeps it.
    r = api.post(f"/api/v1/referrals/{referral}/end", headers=world.headers("otherdoc"))
    assert r.status_code == 200 and r.json()["ended_at"] is not None
    assert not _sees(api, world, "otherdoc", pid)
    assert _sees(api, world, "demo", pid)
    # A new referral, then the patient withdraws consent: access ends at once.
    r = api.post(f"/api/v1/patients/{pid}/referrals", headers=demo, json=body)
    assert r.status_code == 201 and _sees(api, world, "otherdoc", pid)
    r = api.post(f"/api/v1/patients/{pid}/consents/{consent}/revoke", headers=demo)
    assert r.status_code == 200
    assert not _sees(api, world, "otherdoc", pid)
    api.app.state.audit.flush()  # type: ignore[attr-defined]  # reads are written behind
    with Session(world.engine) as db:
        actions = set(db.scalars(select(AuditRow.action).where(AuditRow.patient_id == pid)))
    assert {"consent.grant", "referral.grant", "referral.revoke", "consent.revoke",
            "readings.read", "readings.denied", "panel.grant"} <= actions


def test_refer_outside_the_consortium_is_refused(api: TestClient, world: World) -> None:
    admin = world.headers("admin1")
    team = api.post("/api/v1/admin/teams", headers=admin, json={"name": "own-team"}).json()["id"]
    r = api.post("/api/v1/patients/demo-patient-1/referrals", headers=world.headers("demo"),
                 json={"to_team_id": team, "reason": "same org"})
    assert r.status_code == 422


def test_org_admin_manages_but_reads_clinical_data_only_via_a_team(
    api: TestClient, world: World
) -> None:
    admin = world.headers("admin1")
    r = api.get("/api/v1/patients/demo-patient-1", headers=admin)
    assert r.status_code == 200 and r.json()["clinical_access"] is False
    assert not _sees(api, world, "admin1", "demo-patient-1")
    api.post(f"/api/v1/admin/teams/{world.demo_team}/members", headers=admin,
             json={"username": "admin1"})
    assert _sees(api, world, "admin1", "demo-patient-1")


def test_refresh_rotates_and_logout_revokes(api: TestClient, world: World) -> None:
    r = api.post("/api/v1/auth/token", data={"username": "nurse1", "password": PASSWORD})
    first = r.json()["refresh_token"]
    r = api.post("/api/v1/auth/refresh", json={"refresh_token": first})
    assert r.status_code == 200
    second = r.json()["refresh_token"]
    access = r.json()["access_token"]
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {access}"}).json()[
        "username"] == "nurse1"
    # Reusing a spent token is refused and burns the family (the second one too).
    assert api.post("/api/v1/auth/refresh", json={"refresh_token": first}).status_code == 401
    assert api.post("/api/v1/auth/refresh", json={"refresh_token": second}).status_code == 401
    third = api.post("/api/v1/auth/token", data={"username": "nurse1", "password": PASSWORD}
                     ).json()["refresh_token"]
    assert api.post("/api/v1/auth/logout", json={"refresh_token": third}).status_code == 204
    assert api.post("/api/v1/auth/refresh", json={"refresh_token": third}).status_code == 401
    with Session(world.engine) as db:
        stored = db.scalars(text("SELECT token_hash FROM refresh_tokens")).all()
    assert third not in stored and all(len(h) == 64 for h in stored)


def test_family_may_only_tighten(api: TestClient, world: World) -> None:
    family = world.headers("family1")
    tighter = {"glucose_low": {"unit": "mg/dL", "tier": {"warning": {"lt": 80}}}}
    looser = {"glucose_low": {"unit": "mg/dL", "tier": {"warning": {"lt": 60}}}}
    url = "/api/v1/patients/demo-patient-1/thresholds/family"
    r = api.put(url, headers=family, json={"rules": looser, "reason": "too many alarms"})
    assert r.status_code == 422 and "more sensitive" in r.json()["detail"]
    r = api.put(url, headers=family, json={"rules": tighter, "reason": "worried at night"})
    assert r.status_code == 200
    out = r.json()
    assert out["current"]["family"]["version"] == 1
    assert out["current"]["family"]["author"] == "family1"
    r = api.put("/api/v1/patients/demo-patient-1/thresholds/clinician", headers=family,
                json={"rules": {}, "reason": "x"})
    assert r.status_code == 403
    with Session(world.engine) as db:
        row = db.scalar(select(AuditRow).where(AuditRow.action == "thresholds.change"))
    assert row is not None and row.detail["new"] == tighter and row.detail["old"] is None


def test_threshold_versions_keep_history(api: TestClient, world: World) -> None:
    url = "/api/v1/patients/demo-patient-1/thresholds/clinician"
    demo = world.headers("demo")
    for lt in (65, 60):
        r = api.put(url, headers=demo, json={
            "rules": {"glucose_low": {"unit": "mg/dL", "tier": {"warning": {"lt": lt}}}},
            "reason": f"lt {lt}"})
        assert r.status_code == 200
    out = r.json()
    assert [v["version"] for v in out["history"]] == [2, 1]
    assert out["current"]["clinician"]["reason"] == "lt 60"
    r = api.put(url, headers=demo, json={"rules": {"no_such_rule": {}}, "reason": "typo"})
    assert r.status_code == 422


def test_unit_preferences_apply_to_readings(api: TestClient, world: World) -> None:
    store_readings(world.engine, 1)
    demo = world.headers("demo")
    r = api.put("/api/v1/me/preferences", headers=demo,
                json={"bp_unit": "kPa", "glucose_unit": "mmol/L"})
    assert r.status_code == 200
    item = api.get("/api/v1/patients/demo-patient-1/readings", headers=demo).json()["items"][0]
    assert item["values"]["systolic"] == 120.0  # canonical stays
    assert item["display"] == {"systolic": 16.0, "diastolic": 10.7, "unit": "kPa"}


def test_audit_endpoint_filters_and_table_is_append_only(api: TestClient, world: World) -> None:
    api.get("/api/v1/patients/demo-patient-1/readings", headers=world.headers("demo"))
    api.get("/api/v1/patients/other-patient/readings", headers=world.headers("otherdoc"))
    r = api.get("/api/v1/audit", headers=world.headers("admin1"),
                params={"action": "readings.read"})
    rows = r.json()
    assert [(a["actor"], a["patient_id"]) for a in rows] == [("demo", "demo-patient-1")]
    r = api.get("/api/v1/audit", headers=world.headers("admin1"), params={"actor": "otherdoc"})
    assert r.json() == []  # another organisation's user and patient
    with Session(world.engine) as db:
        for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
            with pytest.raises(DatabaseError, match="append-only"):
                db.execute(text(statement))
            db.rollback()


def test_nul_characters_are_bad_input_on_every_backend(api: TestClient, world: World) -> None:
    # PostgreSQL text cannot hold NUL: such input must be a 4xx, never a 500.
    r = api.post("/api/v1/auth/token", data={"username": "a\x00b", "password": "x"})
    assert r.status_code in (401, 422)
    r = api.get("/api/v1/patients/a%00b/readings", headers=world.headers("demo"))
    assert r.status_code in (404, 422)
    r = api.post("/api/v1/admin/teams", headers=world.headers("admin1"), json={"name": "t\u0000"})
    assert r.status_code in (201, 422)
