"""The API over a real SQLite store: login, visibility, readings pages, audit, health."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cloud_api.api.app import create_app
from cloud_api.db import care
from cloud_api.db.access_models import CareTeam
from cloud_api.db.directory import DEMO_PATIENT, DEMO_TEAM, create_user
from cloud_api.db.engine import session_factory
from cloud_api.db.models import AuditRow, Patient, ReadingRow, Role, User
from cloud_api.ingest.batch import IngestBatch
from cloud_api.ingest.sinks import SqlStore
from cloud_api.settings import CloudSettings
from tests.cloud_api.factories import T0, bp

PASSWORD = "correct horse"


@pytest.fixture
def users(engine: Engine) -> None:
    with session_factory(engine).begin() as db:
        nurse = create_user(db, "demo-clinic", "nurse1", PASSWORD, Role.NURSE)
        create_user(db, "demo-clinic", "family1", PASSWORD, Role.FAMILY, DEMO_PATIENT)
        create_user(db, "demo-clinic", "svc", PASSWORD, Role.SERVICE)
        other = create_user(db, "other-clinic", "otherdoc", PASSWORD, Role.CLINICIAN)
        demo_team = db.scalar(select(CareTeam).where(CareTeam.name == DEMO_TEAM))
        care.add_member(db, demo_team, nurse)
        other_team = care.create_team(db, other.org_id, "other-team")
        care.add_member(db, other_team, other)
        care.add_to_panel(db, other_team, db.get(Patient, "other-patient"))


@pytest.fixture
def client(engine: Engine, db_url: str, users: None) -> Iterator[TestClient]:
    settings = CloudSettings(database_url=db_url, login_max_failures=3,
                             jwt_secret="test-secret-of-at-least-32-bytes-length")
    with TestClient(create_app(settings)) as c:
        yield c


def login(client: TestClient, username: str) -> dict[str, str]:
    password = "demo" if username == "demo" else PASSWORD
    r = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def audit(engine: Engine, action: str, client: TestClient | None = None) -> list[AuditRow]:
    """Audit rows of ``action``; with ``client``, after flushing its write-behind reads."""
    if client is not None:
        client.app.state.audit.flush()  # type: ignore[attr-defined]
    with Session(engine) as db:
        return list(db.scalars(select(AuditRow).where(AuditRow.action == action)))


def test_login_issues_bearer_token_and_passwords_are_hashed(
    client: TestClient, engine: Engine
) -> None:
    r = client.post("/api/v1/auth/token", data={"username": "demo", "password": "demo"})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 900
    with Session(engine) as db:
        hashes = db.scalars(select(User.password_hash)).all()
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert not any(PASSWORD in h or h == "demo" for h in hashes)
    assert [a.actor for a in audit(engine, "login")] == ["demo"]


def test_bad_password_is_rejected_logged_and_throttled(client: TestClient, engine: Engine) -> None:
    for _ in range(3):
        r = client.post("/api/v1/auth/token", data={"username": "demo", "password": "nope"})
        assert r.status_code == 401
    r = client.post("/api/v1/auth/token", data={"username": "demo", "password": "demo"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert len(audit(engine, "login.failed")) == 3
    # unknown user: same answer as a wrong password
    r = client.post("/api/v1/auth/token", data={"username": "ghost", "password": "x"})
    assert r.status_code == 401


def test_requests_without_valid_token_are_refused(client: TestClient) -> None:
    assert client.get("/api/v1/patients").status_code == 401
    forged = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.x"}
    assert client.get("/api/v1/patients", headers=forged).status_code == 401


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("demo", ["demo-patient-1"]),
        ("nurse1", ["demo-patient-1"]),
        ("family1", ["demo-patient-1"]),
        ("otherdoc", ["other-patient"]),
        ("svc", []),
    ],
)
def test_patient_list_is_scoped_to_the_caller(
    client: TestClient, engine: Engine, username: str, expected: list[str]
) -> None:
    r = client.get("/api/v1/patients", headers=login(client, username))
    assert r.status_code == 200
    assert [p["id"] for p in r.json()] == expected
    assert [a.actor for a in audit(engine, "patients.list", client)] == [username]


def store_readings(engine: Engine, n: int, patient: str = DEMO_PATIENT,
                   gateway: str = "gw-demo-1") -> list[str]:
    import asyncio
    readings = tuple(bp(patient=patient, minutes=i, systolic=120 + i) for i in range(n))
    asyncio.run(SqlStore(engine).write(IngestBatch(T0, gateway, readings=readings)))
    return [r.msg_id for r in readings]


def test_readings_newest_first_with_cursor_pagination(client: TestClient, engine: Engine) -> None:
    ids = store_readings(engine, 5)
    headers = login(client, "demo")
    seen: list[str] = []
    cursor = None
    for _ in range(3):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        r = client.get(f"/api/v1/patients/{DEMO_PATIENT}/readings", params=params, headers=headers)
        assert r.status_code == 200
        page = r.json()
        seen += [item["msg_id"] for item in page["items"]]
        cursor = page["next_cursor"]
    assert seen == ids[::-1] and cursor is None
    first = client.get(f"/api/v1/patients/{DEMO_PATIENT}/readings", headers=headers).json()
    item = first["items"][0]
    assert item["kind"] == "blood_pressure" and item["simulated"] is True
    assert item["values"]["systolic"] == 124 and item["device"]["key"] == "SIM-0001"
    assert "patient" not in item["values"]
    assert len(audit(engine, "readings.read", client)) == 4


def test_readings_filters(client: TestClient, engine: Engine) -> None:
    ids = store_readings(engine, 5)
    headers = login(client, "family1")
    url = f"/api/v1/patients/{DEMO_PATIENT}/readings"
    window = {"since": "2026-11-25T08:01:00Z", "until": "2026-11-25T08:03:00Z"}
    r = client.get(url, params=window, headers=headers)
    assert [i["msg_id"] for i in r.json()["items"]] == [ids[2], ids[1]]
    r = client.get(url, params={"kind": "glucose"}, headers=headers)
    assert r.json()["items"] == []
    r = client.get(url, params={"kind": "blood_pressure", "limit": 1}, headers=headers)
    assert [i["msg_id"] for i in r.json()["items"]] == [ids[4]]
    assert client.get(url, params={"kind": "nonsense"}, headers=headers).status_code == 422
    assert client.get(url, params={"cursor": "garbage"}, headers=headers).status_code == 400
    naive = client.get(url, params={"since": "2026-11-25T08:01:00"}, headers=headers)
    assert naive.status_code == 422


@pytest.mark.parametrize("username", ["otherdoc", "svc"])
def test_invisible_patient_is_404_and_audited(
    client: TestClient, engine: Engine, username: str
) -> None:
    store_readings(engine, 1)
    headers = login(client, username)
    hidden = client.get(f"/api/v1/patients/{DEMO_PATIENT}/readings", headers=headers)
    missing = client.get("/api/v1/patients/no-such-patient/readings", headers=headers)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()  # existence does not leak
    assert {a.patient_id for a in audit(engine, "readings.denied", client)} == {
        DEMO_PATIENT, "no-such-patient"}


def test_family_user_cannot_see_another_patient(client: TestClient, engine: Engine) -> None:
    store_readings(engine, 1, patient="other-patient", gateway="gw-other")
    r = client.get("/api/v1/patients/other-patient/readings", headers=login(client, "family1"))
    assert r.status_code == 404


def test_healthz_reports_database_and_ingest_freshness(client: TestClient, engine: Engine) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["components"]["database"]["status"] == "ok"
    assert r.json()["components"]["ingest"]["status"] == "idle"
    store_readings(engine, 1)
    ingest = client.get("/healthz").json()["components"]["ingest"]
    assert ingest["status"] == "ok" and ingest["detail"]["age_s"] >= 0


def test_healthz_is_503_when_database_is_down() -> None:
    # Nothing listens on port 1: the database is unreachable from the start.
    settings = CloudSettings(database_url="postgresql://u:p@127.0.0.1:1/none",
                             migrate_on_start=False,
                             jwt_secret="test-secret-of-at-least-32-bytes-length")
    with TestClient(create_app(settings)) as c:
        r = c.get("/healthz")
    assert r.status_code == 503
    assert r.json()["components"]["database"]["status"] == "down"


def test_openapi_documents_the_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/auth/token", "/api/v1/patients",
            "/api/v1/patients/{patient_id}/readings", "/healthz"} <= set(paths)


def test_readings_rows_survive_roundtrip_types(engine: Engine) -> None:
    store_readings(engine, 1)
    with Session(engine) as db:
        row = db.scalars(select(ReadingRow)).one()
    assert row.measured_at == T0 and row.measured_at.tzinfo is not None


def test_login_lockout_is_shared_by_api_replicas(engine: Engine, db_url: str, users: None) -> None:
    """Two API processes on one database (``--workers 2``, or two hosts): failures seen by
    one lock the pair out on the other, since they are counted from the audit log."""
    settings = CloudSettings(database_url=db_url, login_max_failures=3,
                             jwt_secret="test-secret-of-at-least-32-bytes-length")
    with TestClient(create_app(settings)) as a, TestClient(create_app(settings)) as b:
        for replica in (a, b, a):
            r = replica.post("/api/v1/auth/token", data={"username": "Nurse1", "password": "x"})
            assert r.status_code == 401
        r = b.post("/api/v1/auth/token", data={"username": "nurse1", "password": PASSWORD})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
        # another user is not locked out, and a success resets the count
        for _ in range(2):
            for replica in (a, b):
                r = replica.post("/api/v1/auth/token",
                                 data={"username": "family1", "password": "x"})
                assert r.status_code == 401
            login(b, "family1")
