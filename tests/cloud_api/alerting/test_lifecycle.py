"""Alert workflow over the API on a real store: transitions, 409s, attribution, inbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cloud_api.api.app import create_app
from cloud_api.db.directory import DEMO_PATIENT, create_patient, create_user, register_gateway
from cloud_api.db.engine import session_factory
from cloud_api.db.models import AuditRow, Role
from cloud_api.settings import CloudSettings
from tests.cloud_api.alerting.helpers import gateway_alert, store
from tests.cloud_api.factories import T0
from vitals.alerts import AlertState, Severity

PASSWORD = "correct horse"


@pytest.fixture
def client(engine: Engine, db_url: str) -> Iterator[TestClient]:
    with session_factory(engine).begin() as db:
        create_user(db, "demo-clinic", "nurse1", PASSWORD, Role.NURSE)
        create_user(db, "demo-clinic", "family1", PASSWORD, Role.FAMILY, DEMO_PATIENT)
        create_user(db, "other-clinic", "otherdoc", PASSWORD, Role.CLINICIAN)
        create_patient(db, "demo-clinic", "demo-patient-2", "Second Patient")
        register_gateway(db, "gw-demo-2", ["demo-patient-2"])
    settings = CloudSettings(database_url=db_url, alerting_loops=False,
                             jwt_secret="test-secret-of-at-least-32-bytes-length")
    with TestClient(create_app(settings)) as c:
        yield c


def login(client: TestClient, username: str) -> dict[str, str]:
    password = "demo" if username == "demo" else PASSWORD
    r = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_lifecycle_transitions_are_attributed_and_illegal_ones_409(
    client: TestClient, engine: Engine
) -> None:
    alert = gateway_alert()
    store(engine, alert)
    demo, nurse = login(client, "demo"), login(client, "nurse1")
    got = client.get(f"/api/v1/alerts/{alert.alert_id}", headers=demo).json()
    assert got["status"] == "raised" and got["tier"] == "nurse"
    assert got["why"]["rule_id"] == "glucose_low" and got["why"]["thresholds"] == {
        "urgent_below": 54.0}
    assert got["why"]["source"] == "ADA Standards of Care §6"
    assert got["next_escalation_at"] is not None  # urgent: escalates if unacknowledged

    r = client.post(f"/api/v1/alerts/{alert.alert_id}/acknowledge", headers=nurse)
    assert r.status_code == 200 and r.json()["acknowledged_by"] == "nurse1"
    assert r.json()["next_escalation_at"] is None
    assert client.post(f"/api/v1/alerts/{alert.alert_id}/acknowledge",
                       headers=demo).status_code == 409
    r = client.post(f"/api/v1/alerts/{alert.alert_id}/comments", headers=demo,
                    json={"text": "called the patient"})
    assert r.status_code == 200
    r = client.post(f"/api/v1/alerts/{alert.alert_id}/resolve", headers=demo,
                    json={"reason": "glucose back to 95"})
    assert r.json()["status"] == "resolved" and r.json()["resolved_by"] == "demo"
    for action in ("resolve", "acknowledge", "snooze", "escalate"):
        body = {"duration_s": 60} if action == "snooze" else None
        r = client.post(f"/api/v1/alerts/{alert.alert_id}/{action}", headers=demo, json=body)
        assert r.status_code == 409, action
    got = client.get(f"/api/v1/alerts/{alert.alert_id}", headers=demo).json()
    history = [(h["kind"], h["actor"]) for h in got["history"]]
    assert history == [("raised", "gateway:gw-demo-1"), ("acknowledged", "nurse1"),
                       ("commented", "demo"), ("resolved", "demo")]
    with Session(engine) as db:
        actions = db.scalars(select(AuditRow.action).where(
            AuditRow.action.like("alert.%"), AuditRow.actor != "demo")).all()
    assert "alert.acknowledged" in actions and "alert.raised" in actions


def test_family_may_read_but_not_act_and_other_orgs_see_nothing(
    client: TestClient, engine: Engine
) -> None:
    alert = gateway_alert()
    store(engine, alert)
    family, other = login(client, "family1"), login(client, "otherdoc")
    assert client.get(f"/api/v1/alerts/{alert.alert_id}", headers=family).status_code == 200
    assert client.post(f"/api/v1/alerts/{alert.alert_id}/acknowledge",
                       headers=family).status_code == 403
    assert client.get(f"/api/v1/alerts/{alert.alert_id}", headers=other).status_code == 404
    assert client.get("/api/v1/alerts", headers=other).json()["items"] == []


def test_gateway_clear_resolves_and_update_is_history(client: TestClient, engine: Engine) -> None:
    alert = gateway_alert(severity=Severity.WARNING)
    store(engine, alert)
    upd = alert.model_copy(update={"msg_id": gateway_alert().msg_id, "state": AlertState.UPDATED,
                                   "severity": Severity.URGENT,
                                   "updated_at": T0 + timedelta(minutes=1)})
    clr = alert.model_copy(update={"msg_id": gateway_alert().msg_id, "state": AlertState.CLEARED,
                                   "updated_at": T0 + timedelta(minutes=9),
                                   "cleared_at": T0 + timedelta(minutes=9)})
    store(engine, upd)
    store(engine, upd)  # redelivery: no second history row
    store(engine, clr)
    got = client.get(f"/api/v1/alerts/{alert.alert_id}", headers=login(client, "demo")).json()
    assert [h["kind"] for h in got["history"]] == ["raised", "updated", "resolved"]
    assert got["severity"] == "urgent" and got["status"] == "resolved"
    assert got["resolved_by"] == "gateway:gw-demo-1"


def test_snooze_of_urgent_is_capped_at_15_min(client: TestClient, engine: Engine) -> None:
    alert = gateway_alert()
    store(engine, alert)
    r = client.post(f"/api/v1/alerts/{alert.alert_id}/snooze", headers=login(client, "demo"),
                    json={"duration_s": 7200})
    snoozed = r.json()["history"][-1]["detail"]
    assert snoozed["granted_s"] == 900 and snoozed["capped"] is True
    assert snoozed["direction"] == "below" and snoozed["severity"] == "urgent"
    # a new alert of the same rule at the same severity is held by the snooze...
    second = gateway_alert(at=T0 + timedelta(minutes=1))
    store(engine, second)
    got = client.get(f"/api/v1/alerts/{second.alert_id}", headers=login(client, "demo")).json()
    assert got["snoozed_until"] is not None


def test_inbox_filters_and_cursor_pagination(client: TestClient, engine: Engine) -> None:
    sevs = [Severity.URGENT, Severity.WARNING, Severity.INFO, Severity.URGENT, Severity.WARNING]
    alerts = [gateway_alert(severity=s, at=T0 + timedelta(minutes=i)) for i, s in enumerate(sevs)]
    store(engine, *alerts)
    other = gateway_alert(patient="demo-patient-2", at=T0 + timedelta(minutes=10),
                          simulated=False)
    store(engine, other, gateway="gw-demo-2")
    demo = login(client, "demo")

    def ids(**params: object) -> list[str]:
        r = client.get("/api/v1/alerts", headers=demo, params=params)  # type: ignore[arg-type]
        assert r.status_code == 200, r.text
        return [i["alert_id"] for i in r.json()["items"]]

    assert ids() == [other.alert_id] + [a.alert_id for a in reversed(alerts)]
    assert ids(severity="urgent") == [other.alert_id, alerts[3].alert_id, alerts[0].alert_id]
    assert ids(patient="demo-patient-2") == [other.alert_id]
    assert ids(simulated="false") == [other.alert_id]
    assert ids(since=(T0 + timedelta(minutes=1)).isoformat(),
               until=(T0 + timedelta(minutes=3)).isoformat()) == [alerts[2].alert_id,
                                                                  alerts[1].alert_id]
    client.post(f"/api/v1/alerts/{alerts[1].alert_id}/assign", headers=demo,
                json={"username": "demo"})
    client.post(f"/api/v1/alerts/{alerts[2].alert_id}/acknowledge", headers=demo)
    assert ids(assigned="me") == [alerts[1].alert_id]
    assert ids(state="acknowledged") == [alerts[2].alert_id]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/alerts", headers=demo, params=params).json()
        seen += [i["alert_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids() and len(seen) == 6
    assert client.get("/api/v1/alerts", headers=demo, params={"cursor": "zz"}).status_code == 400


def test_alerts_stored_without_the_hook_are_opened_by_the_sweep(
    client: TestClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from cloud_api.alerting import ingest_seam
    from cloud_api.alerting.clock import FakeClock
    from cloud_api.alerting.cloud_rules import CloudRules
    from cloud_api.ingest.batch import IngestBatch
    from cloud_api.ingest.sinks import SqlStore

    def broken(*_: object) -> None:
        raise RuntimeError("lifecycle bug")

    monkeypatch.setattr(ingest_seam, "_record", broken)
    alert = gateway_alert()
    result = asyncio.run(SqlStore(engine).write(IngestBatch(T0, "gw-demo-1", alerts=(alert,))))
    assert result.stored == 1  # the alert itself is stored (and would be acked)
    demo = login(client, "demo")
    assert client.get(f"/api/v1/alerts/{alert.alert_id}", headers=demo).status_code == 404
    CloudRules(session_factory(engine), FakeClock(T0 + timedelta(minutes=1))).run_once()
    got = client.get(f"/api/v1/alerts/{alert.alert_id}", headers=demo).json()
    assert got["status"] == "raised" and got["history"][0]["actor"] == "system"
