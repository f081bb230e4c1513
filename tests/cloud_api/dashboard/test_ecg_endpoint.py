"""GET /api/v1/patients/{id}/ecg/{msg_id}: samples, beats and findings; access-checked, audited."""

from __future__ import annotations

from functools import partial

import httpx
from sqlalchemy import select

from cloud_api.db.engine import make_engine, session_factory
from cloud_api.db.models import AuditRow
from tests.cloud_api.dashboard.conftest import Site

# generous: the test machine is shared (these are not speed checks)
get = partial(httpx.get, timeout=30.0)
post = partial(httpx.post, timeout=30.0)


def _auth(site: Site, user: str, password: str) -> dict[str, str]:
    r = post(f"{site.url}/api/v1/auth/token", data={"username": user, "password": password})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _ecg_id(site: Site, headers: dict[str, str], pid: str) -> str:
    items = get(f"{site.url}/api/v1/patients/{pid}/readings",
                      params={"kind": "ecg"}, headers=headers).json()["items"]
    msg_id: str = items[0]["msg_id"]
    return msg_id


def test_strip_with_beats_and_no_diagnosis(site: Site) -> None:
    headers = _auth(site, *site.fleet.clinician)
    pid = site.fleet.patients[0]
    body = get(f"{site.url}/api/v1/patients/{pid}/ecg/{site.fleet.ecg_msg_id}",
                     headers=headers).json()
    assert body["simulated"] is True
    assert len(body["samples_uv"]) == 250 * 30
    # regular 72/min synthetic rhythm: ~36 beats, rate within a few bpm
    assert 33 <= len(body["beats"]) <= 38
    assert abs(body["hr_bpm"] - 72) < 5
    assert body["findings"] == []
    assert "not a diagnosis" in body["note"].lower()
    irregular = site.fleet.patients[1]
    flagged = get(
        f"{site.url}/api/v1/patients/{irregular}/ecg/{_ecg_id(site, headers, irregular)}",
        headers=headers).json()
    assert [f["code"] for f in flagged["findings"]] == ["possible_af"]
    assert flagged["findings"][0]["label"] == "possible AF — clinician review"


def test_other_patients_strip_is_404_and_audited(site: Site) -> None:
    family = _auth(site, *site.fleet.family)
    clinician = _auth(site, *site.fleet.clinician)
    other = site.fleet.patients[1]
    msg_id = _ecg_id(site, clinician, other)
    assert get(f"{site.url}/api/v1/patients/{other}/ecg/{msg_id}",
                     headers=family).status_code == 404
    # a real strip id under the wrong patient is not found either
    own = site.fleet.patients[0]
    assert get(f"{site.url}/api/v1/patients/{own}/ecg/{msg_id}",
                     headers=family).status_code == 404
    assert get(f"{site.url}/api/v1/patients/{own}/ecg/{site.fleet.ecg_msg_id}",
                     headers=family).status_code == 200
    engine = make_engine(site.db_url)
    try:
        with session_factory(engine)() as db:
            actions = [(a.actor, a.action, a.patient_id) for a in db.scalars(
                select(AuditRow).where(AuditRow.action.like("ecg.%")))]
    finally:
        engine.dispose()
    assert ("family1", "ecg.denied", other) in actions
    assert ("family1", "ecg.read", own) in actions
