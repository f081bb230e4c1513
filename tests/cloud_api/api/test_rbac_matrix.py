"""Every endpoint × every role × own / referred / other organisation → the designed answer.

The cases are checked against the app's OpenAPI route table: an endpoint without an entry
here fails ``test_every_endpoint_has_a_matrix_entry``. Objects a request changes for good
(a referral ended, a credential revoked) are made fresh for that request by its builder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from cloud_api.alerting.models import NotificationTarget, WorklistItem
from cloud_api.db import care
from cloud_api.db.access_models import CareTeam, DeviceRow
from cloud_api.db.directory import DEMO_PATIENT, create_patient, create_user, register_gateway
from cloud_api.db.models import Patient, Role, User
from tests.cloud_api.alerting.helpers import gateway_alert, store
from tests.cloud_api.world import OTHER_PATIENT, PASSWORD, REF_PATIENT, World, unique
from vitals.alerts import Severity
from vitals.readings import now_utc

ACTORS = ["demo", "nurse1", "admin1", "family1", "svc", "otherdoc", "otheradmin"]
ROLE = {"demo": "clinician", "nurse1": "nurse", "admin1": "org_admin", "family1": "family",
        "svc": "service", "otherdoc": "clinician", "otheradmin": "org_admin"}
HOME = {a: "other" if a.startswith("other") else "own" for a in ACTORS}
VISIBLE = {"demo": {"own", "referred"}, "nurse1": {"own", "referred"}, "family1": {"own"},
           "otherdoc": {"referred", "other"}}
MANAGED = {"admin1": {"own", "referred"}, "otheradmin": {"other"}}
PATIENT = {"own": DEMO_PATIENT, "referred": REF_PATIENT, "other": OTHER_PATIENT}
ORG = {"own": "demo-clinic", "other": "other-clinic"}
GATEWAY = {"own": "gw-demo-1", "other": "gw-other"}
PATIENT_SCOPES = ("own", "referred", "other")
ORG_SCOPES = ("own", "other")
PUBLIC = {("POST", "/api/v1/auth/token"), ("POST", "/api/v1/auth/refresh"),
          ("POST", "/api/v1/auth/logout"), ("GET", "/healthz")}
# Endpoints whose access control is checked elsewhere, with the reason. The SSE stream never
# ends on its own (a TestClient request would hang); any signed-in user gets 200 and sees only
# events of patients visible to them: tests/cloud_api/alerting/test_stream.py checks 401
# without a token, 200 with one, and that another organisation's alert is not streamed.
ELSEWHERE = {("GET", "/api/v1/stream"): "tests/cloud_api/alerting/test_stream.py"}
GATEWAY_OF = {"own": "gw-demo-1", "referred": "gw-ref", "other": "gw-other"}
STAFF_OF = {"own": "nurse1", "referred": "nurse1", "other": "otherdoc"}

Policy = Callable[[str, str], int]
Builder = Callable[[World, str], tuple[dict[str, Any], Any]]


def _patient_org(scope: str) -> str:
    return "other" if scope == "other" else "own"


def read(a: str, s: str) -> int:
    return 200 if s in VISIBLE.get(a, set()) else 404


def detail(a: str, s: str) -> int:
    return 200 if s in VISIBLE.get(a, set()) | MANAGED.get(a, set()) else 404


def admin_patient(ok: int) -> Policy:
    def policy(a: str, s: str) -> int:
        if ROLE[a] != "org_admin":
            return 403
        return ok if s in MANAGED[a] else 404
    return policy


def consent_write(ok: int) -> Policy:
    def policy(a: str, s: str) -> int:
        if s in MANAGED.get(a, set()):
            return ok
        if s in VISIBLE.get(a, set()):
            same_org = HOME[a] == _patient_org(s)
            return ok if ROLE[a] == "clinician" and same_org else 403
        return 404
    return policy


def refer(a: str, s: str) -> int:
    # Fresh patients per request (see _refer_target): own = on demo-team's panel with a
    # consent for other-clinic; referred = already referred to other-team; other = on
    # other-team's panel without any consent for demo-clinic. Family/admins see none of them.
    return {
        "own": {"demo": 201, "nurse1": 403},
        "referred": {"demo": 409, "nurse1": 403, "otherdoc": 403},
        "other": {"otherdoc": 422},
    }[s].get(a, 404)


def end_referral(a: str, s: str) -> int:
    return {"demo": 200, "nurse1": 403, "admin1": 200, "otherdoc": 200,
            "otheradmin": 200}.get(a, 404)


def layer_writer(role: str) -> Policy:
    def policy(a: str, s: str) -> int:
        if s not in VISIBLE.get(a, set()):
            return 404
        return 200 if ROLE[a] == role else 403
    return policy


def org_admin_only(ok: int) -> Policy:
    return lambda a, s: ok if ROLE[a] == "org_admin" else 403


def org_resource(ok: int) -> Policy:
    def policy(a: str, s: str) -> int:
        if ROLE[a] != "org_admin":
            return 403
        return ok if HOME[a] == s else 404
    return policy


def staff_act(ok: int) -> Policy:
    """Alert and worklist actions: clinical staff only (family and service accounts 403,
    whatever the patient), then visibility decides (not visible: 404)."""
    def policy(a: str, s: str) -> int:
        if ROLE[a] not in ("clinician", "nurse", "org_admin"):
            return 403
        return ok if s in VISIBLE.get(a, set()) else 404
    return policy


def anyone(ok: int) -> Policy:
    return lambda a, s: ok


def care_roles(a: str, s: str) -> int:
    return 200 if ROLE[a] in ("clinician", "nurse", "org_admin") else 403


# --- builders: (world, scope) -> (path params, json body) -------------------------------


def none(w: World, s: str) -> tuple[dict[str, Any], Any]:
    return {}, None


def patient_path(body: Any = None) -> Builder:
    return lambda w, s: ({"patient_id": PATIENT[s]}, body)


def _team(w: World, s: str) -> int:
    return w.demo_team if s == "own" else w.other_team


def _fresh_team_member(w: World, s: str) -> tuple[dict[str, Any], Any]:
    with w.session() as db, db.begin():
        user = create_user(db, ORG[s], unique("n"), PASSWORD, Role.NURSE)
        team = db.get(CareTeam, _team(w, s))
        assert team is not None
        care.add_member(db, team, user)
        return {"team_id": team.id, "username": user.username}, None


def _fresh_panel_patient(w: World, s: str) -> tuple[dict[str, Any], Any]:
    with w.session() as db, db.begin():
        patient = create_patient(db, ORG[s], unique("pp"), "Panel Patient")
        team = db.get(CareTeam, _team(w, s))
        assert team is not None
        care.add_to_panel(db, team, patient)
        return {"team_id": team.id, "patient_id": patient.id}, None


def _fresh_consent(w: World, s: str) -> tuple[dict[str, Any], Any]:
    with w.session() as db, db.begin():
        patient = db.get(Patient, PATIENT[s])
        by = db.scalar(select(User).where(User.username == "admin1"))
        assert patient is not None and by is not None
        consent = care.grant_consent(db, patient, "research", "demo-clinic", by)
        return {"patient_id": patient.id, "consent_id": consent.id}, None


def _fresh_referral(w: World, s: str) -> tuple[dict[str, Any], Any]:
    _, referral = w.fresh_referred_patient()
    return {"referral_id": referral}, None


def _refer_target(w: World, s: str) -> tuple[dict[str, Any], Any]:
    if s == "referred":
        pid, _ = w.fresh_referred_patient()
        return {"patient_id": pid}, {"to_team_id": w.other_team, "reason": "matrix"}
    with w.session() as db, db.begin():
        patient = create_patient(db, ORG[s], unique("rt"), "Referral Target")
        team = db.get(CareTeam, _team(w, s))
        assert team is not None
        care.add_to_panel(db, team, patient)
        if s == "own":
            by = db.scalar(select(User).where(User.username == "demo"))
            assert by is not None
            care.grant_consent(db, patient, "referral", "other-clinic", by)
        target = w.other_team if s == "own" else w.demo_team
        return {"patient_id": patient.id}, {"to_team_id": target, "reason": "matrix"}


def _fresh_gateway(w: World, s: str) -> tuple[dict[str, Any], Any]:
    with w.session() as db, db.begin():
        gid = unique("gwf")
        register_gateway(db, gid, [DEMO_PATIENT if s == "own" else OTHER_PATIENT])
        return {"gateway_id": gid}, None


def _fresh_device(w: World, s: str) -> tuple[dict[str, Any], Any]:
    with w.session() as db, db.begin():
        device = DeviceRow(gateway_id=GATEWAY[s], patient_id=PATIENT[s], kind="glucose",
                           make="Roche", model="Guide", address=None, serial=unique("sn"),
                           created_at=now_utc())
        db.add(device)
        db.flush()
        return {"gateway_id": GATEWAY[s], "device_id": device.id}, None


def _user_path(w: World, s: str) -> tuple[dict[str, Any], Any]:
    return {"user_id": w.users["nurse1" if s == "own" else "otherdoc"]}, {"disabled": False}


def _fresh_alert(body: Any = None) -> Builder:
    """A new urgent gateway alert for the scope's patient, stored through the ingest sink."""
    def build(w: World, s: str) -> tuple[dict[str, Any], Any]:
        alert = gateway_alert(patient=PATIENT[s], severity=Severity.URGENT, at=now_utc())
        store(w.engine, alert, gateway=GATEWAY_OF[s], received_at=now_utc())
        return {"alert_id": alert.alert_id}, body(s) if callable(body) else body
    return build


def _fresh_worklist_item(w: World, s: str) -> tuple[dict[str, Any], Any]:
    with w.session() as db, db.begin():
        patient = db.get(Patient, PATIENT[s])
        assert patient is not None
        item = WorklistItem(org_id=patient.org_id, patient_id=patient.id, kind="home_bp_week",
                            period=unique("W"), created_at=now_utc(), detail={})
        db.add(item)
        db.flush()
        return {"item_id": item.id}, None


# Tier "matrix" is in no escalation policy, so the delivery loop never sends to these targets.
TARGET = {"tier": "matrix", "channel": "email", "address": "ward@example.org"}


def _fresh_target(w: World, s: str) -> tuple[dict[str, Any], Any]:
    with w.session() as db, db.begin():
        org = db.scalar(select(User.org_id).where(
            User.username == ("admin1" if s == "own" else "otheradmin")))
        assert org is not None
        target = NotificationTarget(org_id=org, tier="matrix", channel="email",
                                    address="ward@example.org", secret=None, min_severity=1,
                                    enabled=True)
        db.add(target)
        db.flush()
        return {"target_id": target.id}, None


def _ecg_strip(w: World, s: str) -> tuple[dict[str, Any], Any]:
    """A stored ECG strip of the scope's patient (on a fresh gateway serving them)."""
    from cloud_api.dashboard.demo_data import synthetic_ecg
    from cloud_api.db.models import ReadingRow
    from vitals.ids import new_msg_id
    from vitals.readings import DeviceRef, EcgStrip

    at = now_utc()
    strip = EcgStrip(msg_id=new_msg_id(at), patient=PATIENT[s], measured_at=at, start=at,
                     device=DeviceRef(make="Polar", model="H10", serial=unique("ecg")),
                     simulated=True, fs_hz=250.0, samples_uv=tuple(synthetic_ecg(250.0, 10, 70)))
    with w.session() as db, db.begin():
        gid = unique("gwe")
        register_gateway(db, gid, [PATIENT[s]])
        db.add(ReadingRow(msg_id=strip.msg_id, patient_id=PATIENT[s], gateway_id=gid, kind="ecg",
                          measured_at=at, received_at=at, device_key=strip.device.key,
                          simulated=True, body=strip.model_dump(mode="json", exclude_none=True)))
    return {"patient_id": PATIENT[s], "msg_id": strip.msg_id}, None


@dataclass(frozen=True)
class Case:
    policy: Policy
    build: Builder
    scopes: tuple[str, ...] = ("own",)
    query: Callable[[str], dict[str, Any]] | None = None


RULES = {"rules": {}, "reason": "matrix"}
CASES: dict[tuple[str, str], Case] = {
    ("GET", "/api/v1/patients"): Case(anyone(200), none),
    ("POST", "/api/v1/patients"): Case(org_admin_only(201), lambda w, s: (
        {}, {"id": unique("np"), "display_name": "New Patient"})),
    ("GET", "/api/v1/patients/{patient_id}/readings"): Case(read, patient_path(), PATIENT_SCOPES),
    ("GET", "/api/v1/patients/{patient_id}/ecg/{msg_id}"): Case(read, _ecg_strip, PATIENT_SCOPES),
    ("GET", "/api/v1/me"): Case(anyone(200), none),
    ("PUT", "/api/v1/me/preferences"): Case(anyone(200), lambda w, s: (
        {}, {"bp_unit": "kPa", "glucose_unit": "mmol/L"})),
    ("GET", "/api/v1/admin/users"): Case(org_admin_only(200), none),
    ("POST", "/api/v1/admin/users"): Case(org_admin_only(201), lambda w, s: (
        {}, {"username": unique("u"), "password": "long enough", "role": "nurse"})),
    ("PATCH", "/api/v1/admin/users/{user_id}"): Case(org_resource(200), _user_path, ORG_SCOPES),
    ("GET", "/api/v1/admin/teams"): Case(org_admin_only(200), none),
    ("POST", "/api/v1/admin/teams"): Case(org_admin_only(201), lambda w, s: (
        {}, {"name": unique("team")})),
    ("POST", "/api/v1/admin/teams/{team_id}/members"): Case(org_resource(200), lambda w, s: (
        {"team_id": _team(w, s)}, {"username": "nurse1" if s == "own" else "otherdoc"}),
        ORG_SCOPES),
    ("DELETE", "/api/v1/admin/teams/{team_id}/members/{username}"): Case(
        org_resource(200), _fresh_team_member, ORG_SCOPES),
    ("POST", "/api/v1/admin/teams/{team_id}/patients"): Case(org_resource(200), lambda w, s: (
        {"team_id": _team(w, s)}, {"patient_id": PATIENT[s]}), ORG_SCOPES),
    ("DELETE", "/api/v1/admin/teams/{team_id}/patients/{patient_id}"): Case(
        org_resource(200), _fresh_panel_patient, ORG_SCOPES),
    ("GET", "/api/v1/patients/{patient_id}"): Case(detail, patient_path(), PATIENT_SCOPES),
    ("PATCH", "/api/v1/patients/{patient_id}"): Case(
        admin_patient(200), patient_path({"display_name": "Renamed"}), PATIENT_SCOPES),
    ("GET", "/api/v1/patients/{patient_id}/consents"): Case(detail, patient_path(),
                                                            PATIENT_SCOPES),
    ("POST", "/api/v1/patients/{patient_id}/consents"): Case(
        consent_write(201), patient_path({"purpose": "treatment", "granted_to_org": "demo-clinic"}),
        PATIENT_SCOPES),
    ("POST", "/api/v1/patients/{patient_id}/consents/{consent_id}/revoke"): Case(
        consent_write(200), _fresh_consent, PATIENT_SCOPES),
    ("GET", "/api/v1/patients/{patient_id}/referrals"): Case(detail, patient_path(),
                                                             PATIENT_SCOPES),
    ("POST", "/api/v1/patients/{patient_id}/referrals"): Case(refer, _refer_target,
                                                              PATIENT_SCOPES),
    ("POST", "/api/v1/referrals/{referral_id}/end"): Case(end_referral, _fresh_referral),
    ("GET", "/api/v1/consortium/teams"): Case(care_roles, none),
    ("GET", "/api/v1/gateways"): Case(anyone(200), none),  # lists only visible ones
    ("POST", "/api/v1/gateways"): Case(admin_patient(201), lambda w, s: (
        {}, {"id": unique("gwn"), "patients": [PATIENT[s]]}), PATIENT_SCOPES),
    ("GET", "/api/v1/gateways/{gateway_id}"): Case(detail, lambda w, s: (
        {"gateway_id": GATEWAY_OF[s]}, None), PATIENT_SCOPES),
    ("PATCH", "/api/v1/gateways/{gateway_id}"): Case(org_resource(200), lambda w, s: (
        {"gateway_id": GATEWAY[s]}, {"label": "relabelled"}), ORG_SCOPES),
    ("POST", "/api/v1/gateways/{gateway_id}/credentials/rotate"): Case(
        org_resource(200), lambda w, s: ({"gateway_id": GATEWAY[s]}, None), ORG_SCOPES),
    ("POST", "/api/v1/gateways/{gateway_id}/credentials/revoke"): Case(
        org_resource(200), _fresh_gateway, ORG_SCOPES),
    ("GET", "/api/v1/gateways/{gateway_id}/devices"): Case(org_resource(200), lambda w, s: (
        {"gateway_id": GATEWAY[s]}, None), ORG_SCOPES),
    ("POST", "/api/v1/gateways/{gateway_id}/devices"): Case(org_resource(201), lambda w, s: (
        {"gateway_id": GATEWAY[s]}, {"patient_id": PATIENT[s], "kind": "blood_pressure",
                                     "make": "Omron", "model": "BP7450",
                                     "address": "C4:7C:8D:6A:10:22"}), ORG_SCOPES),
    ("DELETE", "/api/v1/gateways/{gateway_id}/devices/{device_id}"): Case(
        org_resource(204), _fresh_device, ORG_SCOPES),
    ("GET", "/api/v1/patients/{patient_id}/thresholds"): Case(read, patient_path(),
                                                              PATIENT_SCOPES),
    ("PUT", "/api/v1/patients/{patient_id}/thresholds/{layer}"): Case(
        layer_writer("clinician"), lambda w, s: (
            {"patient_id": PATIENT[s], "layer": "clinician"}, RULES), PATIENT_SCOPES),
    ("GET", "/api/v1/audit"): Case(org_admin_only(200), none),
    ("GET", "/fhir/Patient/{patient_id}/$everything"): Case(read, patient_path(), PATIENT_SCOPES),
    ("GET", "/fhir/Observation"): Case(read, none, PATIENT_SCOPES,
                                       query=lambda s: {"patient": PATIENT[s]}),
    ("GET", "/api/v1/alerts"): Case(anyone(200), none),
    ("GET", "/api/v1/alerts/{alert_id}"): Case(read, _fresh_alert(), PATIENT_SCOPES),
    ("POST", "/api/v1/alerts/{alert_id}/acknowledge"): Case(
        staff_act(200), _fresh_alert(), PATIENT_SCOPES),
    ("POST", "/api/v1/alerts/{alert_id}/resolve"): Case(
        staff_act(200), _fresh_alert({"reason": "matrix"}), PATIENT_SCOPES),
    ("POST", "/api/v1/alerts/{alert_id}/assign"): Case(
        staff_act(200), _fresh_alert(lambda s: {"username": STAFF_OF[s]}), PATIENT_SCOPES),
    ("POST", "/api/v1/alerts/{alert_id}/comments"): Case(
        staff_act(200), _fresh_alert({"text": "matrix"}), PATIENT_SCOPES),
    ("POST", "/api/v1/alerts/{alert_id}/snooze"): Case(
        staff_act(200), _fresh_alert({"duration_s": 60}), PATIENT_SCOPES),
    ("POST", "/api/v1/alerts/{alert_id}/escalate"): Case(
        staff_act(200), _fresh_alert(), PATIENT_SCOPES),
    ("GET", "/api/v1/escalation-policy"): Case(care_roles, none),
    ("PUT", "/api/v1/escalation-policy"): Case(org_admin_only(200), lambda w, s: (
        {}, {"min_severity": 3, "steps": [{"tier": "nurse", "after_s": 0},
                                          {"tier": "physician", "after_s": 600}]})),
    ("GET", "/api/v1/notification-targets"): Case(org_admin_only(200), none),
    ("POST", "/api/v1/notification-targets"): Case(org_admin_only(201), lambda w, s: (
        {}, TARGET)),
    ("DELETE", "/api/v1/notification-targets/{target_id}"): Case(
        org_resource(204), _fresh_target, ORG_SCOPES),
    ("GET", "/api/v1/worklist"): Case(care_roles, none),
    ("POST", "/api/v1/worklist/{item_id}/done"): Case(
        staff_act(200), _fresh_worklist_item, PATIENT_SCOPES),
    **{("GET", f"/api/v1/reports/{{patient_id}}/{report}"): Case(read, patient_path(),
                                                                  PATIENT_SCOPES)
       for report in ("home-bp", "glucose", "adherence", "report.html")},
}
# The family layer of the same endpoint, checked as its own row.
FAMILY_LAYER = Case(layer_writer("family"), lambda w, s: (
    {"patient_id": PATIENT[s], "layer": "family"}, RULES), PATIENT_SCOPES)


def _routes(api: TestClient) -> set[tuple[str, str]]:
    paths = api.app.openapi()["paths"]  # type: ignore[attr-defined]
    return {(m.upper(), p) for p, ops in paths.items() for m in ops}


def test_every_endpoint_has_a_matrix_entry(api: TestClient) -> None:
    missing = _routes(api) - set(CASES) - PUBLIC - set(ELSEWHERE)
    assert not missing, f"add RBAC matrix entries for {sorted(missing)}"
    assert not ((set(CASES) | set(ELSEWHERE)) - _routes(api)), \
        "matrix lists endpoints that no longer exist"


def _call(api: TestClient, world: World, method: str, path: str, case: Case, actor: str | None,
          scope: str) -> int:
    params, body = case.build(world, scope)
    url = path.format(**params)
    headers = world.headers(actor) if actor else {}
    query = case.query(scope) if case.query else None
    r = api.request(method, url, json=body, headers=headers, params=query)
    return int(r.status_code)


def test_rbac_matrix(api: TestClient, world: World) -> None:
    failures = []
    rows = [(k, c) for k, c in CASES.items()] + [
        (("PUT", "/api/v1/patients/{patient_id}/thresholds/{layer}"), FAMILY_LAYER)]
    calls = 0
    for (method, path), case in rows:
        for scope in case.scopes:
            for actor in ACTORS:
                expected = case.policy(actor, scope)
                got = _call(api, world, method, path, case, actor, scope)
                calls += 1
                if got != expected:
                    failures.append(f"{method} {path} as {actor} on {scope}: "
                                    f"expected {expected}, got {got}")
    assert not failures, "\n".join(failures)
    assert calls > 300


def test_no_token_is_401_everywhere(api: TestClient, world: World) -> None:
    answers = {(m, p): _call(api, world, m, p, c, None, c.scopes[0]) for (m, p), c in CASES.items()}
    assert {k: v for k, v in answers.items() if v != 401} == {}


def test_alert_lists_show_exactly_the_visible_patients(api: TestClient, world: World) -> None:
    # Status codes alone cannot catch a list that leaks: here every scope has an alert and a
    # worklist item, and each actor must get exactly the patients they may see.
    for scope in PATIENT_SCOPES:
        _fresh_alert()(world, scope)
        _fresh_worklist_item(world, scope)
    for actor in ACTORS:
        expected = {PATIENT[s] for s in VISIBLE.get(actor, set())}
        inbox = api.get("/api/v1/alerts", headers=world.headers(actor)).json()["items"]
        assert {i["patient_id"] for i in inbox} == expected, actor
        r = api.get("/api/v1/worklist", headers=world.headers(actor))
        if ROLE[actor] in ("family", "service"):
            assert r.status_code == 403, actor
        else:
            assert {i["patient_id"] for i in r.json()} == expected, actor
