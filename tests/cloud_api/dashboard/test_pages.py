"""The dashboard in a real browser against a real API server with simulated patients."""

from __future__ import annotations

import re
from functools import partial

import httpx
from playwright.sync_api import Page, expect

from tests.cloud_api.dashboard.browser import sign_in
from tests.cloud_api.dashboard.conftest import Site

# generous: the test machine is shared (these are not speed checks)
get = partial(httpx.get, timeout=30.0)
post = partial(httpx.post, timeout=30.0)


def _token(site: Site, user: str, password: str) -> str:
    r = post(f"{site.url}/api/v1/auth/token", data={"username": user, "password": password})
    r.raise_for_status()
    token: str = r.json()["access_token"]
    return token


def test_login_rejects_wrong_password(page: Page, site: Site) -> None:
    page.goto(f"{site.url}/dashboard/")
    page.fill("#username", "demo")
    page.fill("#password", "not-the-password")
    page.click("button[type=submit]")
    expect(page.locator(".login .err")).to_have_text("Wrong username or password.")
    expect(page.locator("#logout")).to_be_hidden()


def test_patient_list_shows_own_org_with_simulated_badges(page: Page, site: Site) -> None:
    sign_in(page, site.url, *site.fleet.clinician)
    rows = page.locator("#patient-table tbody tr")
    expect(rows).to_have_count(len(site.fleet.patients))
    shown = {rows.nth(i).get_attribute("data-patient") for i in range(rows.count())}
    assert shown == set(site.fleet.patients)
    assert site.fleet.other_patient not in shown
    expect(page.locator("#patient-table .badge.sim")).to_have_count(len(site.fleet.patients))
    # every row carries a BP and a glucose sparkline
    assert page.locator("#patient-table svg.spark polyline").count() == 2 * len(site.fleet.patients)


def test_bp_chart_has_one_point_per_reading(page: Page, site: Site) -> None:
    pid = site.fleet.patients[1]
    sign_in(page, site.url, *site.fleet.clinician)
    page.goto(f"{site.url}/dashboard/#/patient/{pid}")
    expected = site.fleet.bp_counts[pid]
    expect(page.locator("#bp-chart circle.pt-sys")).to_have_count(expected)
    expect(page.locator("#bp-chart circle.pt-dia")).to_have_count(expected)
    # guideline bands drawn, and the legend cites the guideline
    assert page.locator("#bp-chart rect.band").count() == 5
    expect(page.locator("#bp-chart + .legend")).to_contain_text("ACC/AHA 2017")
    expect(page.locator("#glucose-chart rect.band")).to_have_count(1)
    expect(page.locator("#agp-chart .agp-median")).to_have_count(1)


def test_ecg_viewer_marks_beats_and_flags_for_review(page: Page, site: Site) -> None:
    pid = site.fleet.patients[1]  # seeded with an irregular rhythm
    token = _token(site, *site.fleet.clinician)
    items = get(f"{site.url}/api/v1/patients/{pid}/readings",
                      params={"kind": "ecg", "limit": 1},
                      headers={"Authorization": f"Bearer {token}"}).json()["items"]
    msg_id = items[0]["msg_id"]
    strip = get(f"{site.url}/api/v1/patients/{pid}/ecg/{msg_id}",
                      headers={"Authorization": f"Bearer {token}"}).json()
    sign_in(page, site.url, *site.fleet.clinician)
    page.goto(f"{site.url}/dashboard/#/patient/{pid}")
    page.click("#ecg-list a")
    viewer = page.locator("#ecg-viewer svg")
    expect(viewer).to_have_count(1)
    expect(page.locator("#ecg-viewer .beat")).to_have_count(len(strip["beats"]))
    assert len(strip["beats"]) > 20
    # paper: 30 s at 25 mm/s = 750 mm wide -> 751 vertical + 41 horizontal 1-mm lines
    assert page.locator("#ecg-viewer line.minor").count() + \
        page.locator("#ecg-viewer line.major").count() == 751 + 41
    expect(page.locator("#ecg-findings")).to_contain_text("possible AF — clinician review")
    width_mm = viewer.evaluate("e => e.getBoundingClientRect().width / (96 / 25.4)")
    assert abs(width_mm - 750) < 1
    page.click("button[aria-label='zoom in']")
    width2 = page.locator("#ecg-viewer svg").evaluate("e => e.getBoundingClientRect().width")
    assert abs(width2 / (96 / 25.4) - 1500) < 2


def test_family_sees_own_patient_only(page: Page, site: Site) -> None:
    sign_in(page, site.url, *site.fleet.family)
    expect(page.locator(".family h1")).to_contain_text("Patient A (simulated)")
    expect(page.locator("#nav")).to_be_hidden()
    assert page.locator(".family .big").count() >= 3
    page.goto(f"{site.url}/dashboard/#/patient/{site.fleet.patients[1]}")
    expect(page.locator("#forbidden")).to_be_visible()
    page.goto(f"{site.url}/dashboard/#/patient/{site.fleet.other_patient}")
    expect(page.locator("#forbidden")).to_be_visible()
    expect(page.locator("#bp-chart")).to_have_count(0)


def test_language_switch_is_remembered(page: Page, site: Site) -> None:
    sign_in(page, site.url, *site.fleet.clinician)
    expect(page.locator("#nav a[href='#/patients']")).to_have_text("Patients")
    page.select_option("#lang", "zh")
    expect(page.locator("#nav a[href='#/patients']")).to_have_text("患者")
    expect(page.locator("#patient-table th").first).to_have_text("患者")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    page.reload()
    expect(page.locator("#nav a[href='#/inbox']")).to_have_text("告警")
    page.goto(f"{site.url}/dashboard/#/patient/{site.fleet.patients[0]}")
    expect(page.locator("#bp-chart + .legend")).to_contain_text("家庭血压")
    page.select_option("#lang", "en")
    expect(page.locator("#nav a[href='#/inbox']")).to_have_text("Alerts")


def test_assets_are_all_local(page: Page, site: Site) -> None:
    """Offline intranets: every request the UI makes stays on the API's own origin."""
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    sign_in(page, site.url, *site.fleet.clinician)
    page.goto(f"{site.url}/dashboard/#/patient/{site.fleet.patients[0]}")
    expect(page.locator("#bp-chart svg")).to_have_count(1)
    foreign = [u for u in requested if not u.startswith(site.url) and not u.startswith("data:")]
    assert requested and not foreign


def test_unit_preference_converts_what_is_shown_and_is_remembered(page: Page, site: Site) -> None:
    pid = site.fleet.patients[0]
    auth = {"Authorization": f"Bearer {_token(site, *site.fleet.clinician)}"}
    [latest] = get(f"{site.url}/api/v1/patients/{pid}/readings", headers=auth,
                   params={"kind": "blood_pressure", "limit": 1}).json()["items"]
    systolic_kpa = f"{latest['values']['systolic'] * 101.325 / 760:.1f}"
    try:
        sign_in(page, site.url, *site.fleet.clinician)
        page.goto(f"{site.url}/dashboard/#/patient/{pid}")
        expect(page.locator("#readings-table")).to_contain_text("mmHg")
        page.select_option("#bp-unit", "kPa")
        page.select_option("#glucose-unit", "mmol/L")
        table = page.locator("#readings-table")
        expect(table).to_contain_text(f"{systolic_kpa}/")
        expect(table).not_to_contain_text("mmHg")
        expect(table).to_contain_text("mmol/L")
        axis = page.locator("#bp-chart svg text")
        expect(axis.filter(has_text=re.compile(r"^kPa$"))).to_have_count(1)
        expect(axis.filter(has_text=re.compile(r"^(10|15|20|25)$"))).to_have_count(4)  # kPa ticks
        page.reload()  # stored server-side, not in this tab
        expect(page.locator("#bp-unit")).to_have_value("kPa")
        expect(page.locator("#readings-table")).to_contain_text("kPa")
        me = get(f"{site.url}/api/v1/me", headers=auth).json()
        assert me["preferences"] == {"bp_unit": "kPa", "glucose_unit": "mmol/L"}
    finally:  # the site is shared by the package's tests
        httpx.put(f"{site.url}/api/v1/me/preferences", headers=auth, timeout=30.0,
                  json={"bp_unit": "mmHg", "glucose_unit": "mg/dL"}).raise_for_status()
