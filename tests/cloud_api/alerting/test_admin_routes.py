"""Escalation policy, notification targets, worklist and manual escalation over the API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cloud_api.alerting.models import WorklistItem
from cloud_api.api.app import create_app
from cloud_api.db.directory import create_user
from cloud_api.db.engine import session_factory
from cloud_api.db.models import Patient, Role
from cloud_api.settings import CloudSettings
from tests.cloud_api.alerting.helpers import gateway_alert, store

PASSWORD = "correct horse"


@pytest.fixture
def client(engine: Engine, db_url: str) -> Iterator[TestClient]:
    with session_factory(engine).begin() as db:
        create_user(db, "demo-clinic", "admin1", PASSWORD, Role.ORG_ADMIN)
        create_user(db, "other-clinic", "otherdoc", PASSWORD, Role.CLINICIAN)
    settings = CloudSettings(database_url=db_url, alerting_loops=False,
                             jwt_secret="test-secret-of-at-least-32-bytes-length")
    with TestClient(create_app(settings)) as c:
        yield c


def login(client: TestClient, username: str) -> dict[str, str]:
    password = "demo" if username == "demo" else PASSWORD
    r = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_policy_and_targets_are_admin_only_and_validated(client: TestClient,
                                                         engine: Engine) -> None:
    admin, doc = login(client, "admin1"), login(client, "demo")
    default = client.get("/api/v1/escalation-policy", headers=doc).json()
    assert [s["tier"] for s in default["steps"]] == ["nurse", "physician", "partner-hospital"]
    policy = {"min_severity": 2, "steps": [{"tier": "on-call", "after_s": 0},
                                           {"tier": "doc", "after_s": 300}]}
    assert client.put("/api/v1/escalation-policy", headers=doc, json=policy).status_code == 403
    bad = {**policy, "steps": [{"tier": "doc", "after_s": 60}]}
    assert client.put("/api/v1/escalation-policy", headers=admin, json=bad).status_code == 422
    assert client.put("/api/v1/escalation-policy", headers=admin, json=policy).status_code == 200
    assert client.get("/api/v1/escalation-policy", headers=doc).json() == policy

    hook = {"tier": "on-call", "channel": "webhook", "address": "https://h.example/x"}
    assert client.post("/api/v1/notification-targets", headers=admin,
                       json=hook).status_code == 422  # no secret
    r = client.post("/api/v1/notification-targets", headers=admin,
                    json={**hook, "secret": "s" * 20, "min_severity": "urgent"})
    assert r.status_code == 201 and r.json()["min_severity"] == "urgent"
    assert client.get("/api/v1/notification-targets", headers=doc).status_code == 403
    assert client.delete(f"/api/v1/notification-targets/{r.json()['id']}",
                         headers=admin).status_code == 204
    [t] = client.get("/api/v1/notification-targets", headers=admin).json()
    assert t["enabled"] is False and "secret" not in t
    # an id no integer column can hold is a bad request, not a 500 (found by schemathesis)
    huge = 2**63
    assert client.delete(f"/api/v1/notification-targets/{huge}", headers=admin).status_code == 422
    assert client.post(f"/api/v1/worklist/{huge}/done", headers=doc).status_code == 422

    # the org's policy now drives alerts: manual escalation to "doc", then no further tier
    alert = gateway_alert()
    store(engine, alert)
    r = client.post(f"/api/v1/alerts/{alert.alert_id}/escalate", headers=doc)
    assert r.status_code == 200 and r.json()["tier"] == "doc"
    assert r.json()["history"][-1]["detail"]["manual"] is True
    r = client.post(f"/api/v1/alerts/{alert.alert_id}/escalate", headers=doc)
    assert r.status_code == 409 and "last tier" in r.json()["detail"]


def test_worklist_lists_visible_items_and_marks_done_once(client: TestClient,
                                                          engine: Engine) -> None:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    with session_factory(engine).begin() as db:
        for patient in ("demo-patient-1", "other-patient"):
            org = db.get(Patient, patient).org_id  # type: ignore[union-attr]
            db.add(WorklistItem(org_id=org, patient_id=patient, kind="home_bp_uncontrolled",
                                period="2026-W48", created_at=now, detail={"mean_systolic": 140}))
    doc, other = login(client, "demo"), login(client, "otherdoc")
    [item] = client.get("/api/v1/worklist", headers=doc).json()
    assert item["patient_id"] == "demo-patient-1"
    assert client.post(f"/api/v1/worklist/{item['id']}/done", headers=other).status_code == 404
    r = client.post(f"/api/v1/worklist/{item['id']}/done", headers=doc)
    assert r.status_code == 200 and r.json()["done_by"] == "demo"
    assert client.post(f"/api/v1/worklist/{item['id']}/done", headers=doc).status_code == 409
    assert client.get("/api/v1/worklist", headers=doc).json() == []
    assert len(client.get("/api/v1/worklist", headers=doc,
                          params={"include_done": True}).json()) == 1
