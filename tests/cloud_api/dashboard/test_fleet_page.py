"""Fleet page: a gateway process connected to a real mosquitto with a Last Will shows online
with its outbox depth, battery and firmware; killed (no DISCONNECT), the broker publishes its
Will, the ingest worker process stores it, and the open page turns it offline by itself."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from firmware_sim.services import ManagedProcess, Mosquitto
from tests.cloud_api.dashboard.conftest import REPO, Site

pytestmark = [pytest.mark.services]
GATEWAY = "gw-demo-2"  # serves demo-patient-2, on the demo clinician's care team

# A stand-in gateway speaking the real wire format: retained online status with health,
# retained offline Last Will stamped at connect (exactly what gateway/uplink.py does).
GATEWAY_CLIENT = textwrap.dedent("""
    import asyncio, sys
    from datetime import UTC, datetime
    import aiomqtt
    from vitals.status import DeviceHealth, GatewayState, GatewayStatus
    from vitals.topics import TopicKind, topic
    from vitals.wire import StatusMessage, encode
    host, port, gateway, boot = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    def status(state):
        return encode(StatusMessage(status=GatewayStatus(
            gateway=gateway, state=state, boot_id=boot, at=datetime.now(UTC),
            software="homerpm-gateway/9.8.7", config_version=5, outbox_depth=7,
            devices=(DeviceHealth(device="cuff-1", battery_pct=15, connected=True),),
            simulated=True)))
    async def main():
        where = topic(gateway, TopicKind.STATUS)
        will = aiomqtt.Will(where, status(GatewayState.OFFLINE), qos=1, retain=True)
        async with aiomqtt.Client(host, port, identifier=gateway, will=will, keepalive=5) as c:
            await c.publish(where, status(GatewayState.ONLINE), qos=1, retain=True)
            print("online", flush=True)
            await asyncio.sleep(3600)
    asyncio.run(main())
""")


@pytest.fixture
def gateway(mosquitto: Mosquitto) -> Iterator[subprocess.Popen[bytes]]:
    args = [sys.executable, "-c", GATEWAY_CLIENT, mosquitto.host, str(mosquitto.port), GATEWAY,
            uuid.uuid4().hex]
    proc = subprocess.Popen(args, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
                            stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"online"
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_gateway_goes_offline_on_screen_when_its_last_will_arrives(
    page: Page, site: Site, ingest: ManagedProcess, gateway: subprocess.Popen[bytes],
) -> None:
    # Straight to the fleet page with a token (the patient list that signing in opens
    # first is tested elsewhere; skipping it keeps this test off its many audit writes).
    r = httpx.post(f"{site.url}/api/v1/auth/token", timeout=30.0,
                   data=dict(zip(("username", "password"), site.fleet.clinician, strict=True)))
    r.raise_for_status()
    page.goto(f"{site.url}/dashboard/#/login")
    page.evaluate("t => sessionStorage.setItem('homerpm.token', t)", r.json()["access_token"])
    page.goto(f"{site.url}/dashboard/#/fleet")
    expect(page.locator("#logout")).to_be_visible()
    rows = page.locator("#fleet-table tbody tr")
    # the clinician's three home gateways; never the other organisation's
    expect(rows).to_have_count(len(site.fleet.patients))
    expect(page.locator("#fleet-table tr[data-gateway='gw-other']")).to_have_count(0)
    row = page.locator(f"#fleet-table tr[data-gateway='{GATEWAY}']")
    expect(row).to_have_attribute("data-presence", "online", timeout=30_000)  # page polls
    expect(row.locator(".presence .badge")).to_have_text("online")
    expect(row.locator(".outbox")).to_have_text("7")
    expect(row.locator(".battery .badge.warning")).to_have_text("15 %")  # low battery flagged
    expect(row.locator(".firmware")).to_have_text("homerpm-gateway/9.8.7")

    gateway.send_signal(signal.SIGKILL)  # no DISCONNECT: the broker publishes the Will
    # no reload: the open page picks it up on its own
    expect(row).to_have_attribute("data-presence", "offline", timeout=40_000)
    expect(row.locator(".presence .badge")).to_have_text("offline")
    expect(row.locator(".presence .reason")).to_have_text("Last Will or shutdown message")
    expect(row.locator(".outbox")).to_have_text("7")  # the last heartbeat's, kept

    page.select_option("#lang", "zh")
    row = page.locator(f"#fleet-table tr[data-gateway='{GATEWAY}']")
    expect(row.locator(".presence .badge")).to_have_text("离线")
    expect(row.locator(".presence .reason")).to_have_text("遗嘱消息或关机消息")
    expect(page.locator("#fleet-table th").nth(3)).to_have_text("待发队列")
    page.select_option("#lang", "en")
