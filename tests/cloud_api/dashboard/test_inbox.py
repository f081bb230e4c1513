"""Alert inbox live over SSE: a simulated device's urgent reading, judged by the gateway's
rule engine and published to a real mosquitto, stored by an ingest worker *process*, shows
up in the open inbox by itself (banner included) and can be acknowledged there."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import aiomqtt
import pytest
from playwright.sync_api import Page, expect

from edge_rules.engine import evaluate
from edge_rules.ruleset import load_ruleset
from edge_rules.state import EngineState
from firmware_sim.services import ManagedProcess, Mosquitto
from tests.cloud_api.dashboard.browser import sign_in
from tests.cloud_api.dashboard.conftest import Site
from vitals.alerts import Alert, Severity
from vitals.ids import new_msg_id
from vitals.readings import DeviceRef, Glucose
from vitals.topics import TopicKind, topic
from vitals.units import GlucoseUnit
from vitals.wire import AlertsBatch, ReadingsBatch, encode

pytestmark = [pytest.mark.services]


def urgent_glucose(patient: str, gateway: str) -> tuple[bytes, bytes, Alert]:
    """A 45 mg/dL reading and the alert the gateway's rule engine raises for it."""
    now = datetime.now(UTC)
    reading = Glucose(msg_id=new_msg_id(now), patient=patient, measured_at=now, simulated=True,
                      device=DeviceRef(make="Roche", model="Accu-Chek Guide", serial="SIM-GL-9"),
                      mg_dl=45, value_received=45, unit_received=GlucoseUnit.MG_DL)
    alerts, _ = evaluate([reading], EngineState(), now, ruleset=load_ruleset())
    [alert] = [a for a in alerts if a.severity is Severity.URGENT]
    return (encode(ReadingsBatch(gateway=gateway, sent_at=now, items=(reading,))),
            encode(AlertsBatch(gateway=gateway, sent_at=now, items=(alert,))), alert)


async def publish(mosquitto: Mosquitto, gateway: str, readings: bytes, alerts: bytes) -> None:
    async with aiomqtt.Client(mosquitto.host, mosquitto.port, identifier=gateway) as gw:
        await gw.publish(topic(gateway, TopicKind.READINGS), readings, qos=1)
        await gw.publish(topic(gateway, TopicKind.ALERTS), alerts, qos=1)


def test_urgent_reading_appears_live_and_is_acknowledged(
    page: Page, site: Site, mosquitto: Mosquitto, ingest: ManagedProcess,
) -> None:
    sign_in(page, site.url, *site.fleet.clinician)
    page.goto(f"{site.url}/dashboard/#/inbox")
    expect(page.locator("#inbox-list")).to_be_visible()
    expect(page.locator("#live")).to_have_attribute("data-state", "live")
    patient = site.fleet.patients[2]
    readings, alerts, alert = urgent_glucose(patient, "gw-demo-3")
    # Playwright's sync API owns this thread's event loop: publish from another thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, publish(mosquitto, "gw-demo-3", readings, alerts)).result()
    row = page.locator(f"article[data-alert='{alert.alert_id}']")
    expect(row).to_be_visible(timeout=15_000)  # no reload: the stream brought it
    expect(row.locator(".badge.urgent")).to_be_visible()
    expect(row.locator(".badge.sim")).to_be_visible()
    expect(row.locator(".why")).to_contain_text("54 mg/dL")  # the rule's own explanation
    expect(page.locator("#banner")).to_contain_text("Urgent alert")
    row.locator("button.ack").click()
    expect(row).to_have_attribute("data-status", "acknowledged")
    expect(row.locator("button.ack")).to_be_disabled()
