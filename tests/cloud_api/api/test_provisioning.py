"""Provisioning writes hashes (never plaintext) and an ACL a real mosquitto enforces;
threshold changes arrive as retained configs on the real broker, for that gateway only."""

from __future__ import annotations

import asyncio
import tomllib
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud_api.api.app import create_app
from cloud_api.broker.mosquitto_auth import hash_password, new_secret
from cloud_api.db.access_models import GatewayCredential
from cloud_api.settings import CloudSettings
from firmware_sim.services import Mosquitto
from tests.cloud_api.world import World
from vitals.topics import TopicKind, topic
from vitals.wire import ConfigMessage, decode

API_SECRET = new_secret()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path / "broker", passwords={"placeholder": "x"})
    broker.start()
    # The operator provisions the API's service account; the cloud keeps svc-* lines.
    (broker.workdir / "passwords").write_text(f"svc-api:{hash_password(API_SECRET)}\n")
    broker.reload()
    assert broker.process is not None
    (broker.workdir / "mosquitto.pid").write_text(str(broker.process.pid))
    yield broker
    broker.stop()


@pytest.fixture
def wired(world: World, db_url: str, broker: Mosquitto) -> Iterator[TestClient]:
    settings = CloudSettings(
        database_url=db_url, jwt_secret="test-secret-of-at-least-32-bytes-length",
        broker_auth_dir=broker.workdir, broker_pid_file=broker.workdir / "mosquitto.pid",
        broker_public_url=f"mqtt://{broker.host}:{broker.auth_port}",
        config_mqtt_url=f"mqtt://svc-api:{API_SECRET}@{broker.host}:{broker.auth_port}",
    )
    with TestClient(create_app(settings)) as client:
        yield client


def _client(broker: Mosquitto, user: str, password: str) -> aiomqtt.Client:
    return aiomqtt.Client(broker.host, broker.auth_port, identifier=user, username=user,
                          password=password, protocol=aiomqtt.ProtocolVersion.V5)


async def _retained(broker: Mosquitto, user: str, password: str, gateway: str) -> list[bytes]:
    got: list[bytes] = []
    async with _client(broker, user, password) as client:
        await client.subscribe(topic(gateway, TopicKind.CONFIG), qos=1)
        try:
            async with asyncio.timeout(1.5):
                async for message in client.messages:
                    got.append(bytes(message.payload))  # type: ignore[arg-type]
        except TimeoutError:
            pass
    return got


@pytest.mark.services
def test_provisioned_gateway_connects_and_is_confined(
    wired: TestClient, world: World, broker: Mosquitto
) -> None:
    r = wired.post("/api/v1/gateways", headers=world.headers("admin1"),
                   json={"id": "gw-new", "patients": ["demo-patient-1"], "label": "flat 3"})
    assert r.status_code == 201, r.text
    bundle = r.json()
    assert bundle["broker_sync"] is None
    secret = bundle["password"]
    parsed = tomllib.loads(bundle["toml"])
    assert parsed["mqtt"]["password"] == secret and parsed["gateway"]["id"] == "gw-new"
    assert parsed["gateway"]["patients"] == ["demo-patient-1"]
    files = (broker.workdir / "passwords").read_text() + (broker.workdir / "acl").read_text()
    assert secret not in files and "gw-new:$7$" in files and "svc-api:$7$" in files
    with Session(world.engine) as db:
        stored = db.scalar(select(GatewayCredential.mqtt_hash)
                           .where(GatewayCredential.gateway_id == "gw-new"))
    assert stored is not None and stored.startswith("$7$") and secret not in stored

    async def scenario() -> list[tuple[str, bytes]]:
        async with (
            _client(broker, "svc-api", API_SECRET) as api,
            _client(broker, "gw-new", secret) as gw,
        ):
            await gw.subscribe("homerpm/v1/+/down/config", qos=1)
            await api.publish(topic("gw-demo-1", TopicKind.CONFIG), b"not-yours", qos=1)
            await api.publish(topic("gw-new", TopicKind.CONFIG), b"yours", qos=1)
            out = []
            async with asyncio.timeout(5):
                async for m in gw.messages:
                    out.append((str(m.topic), bytes(m.payload)))  # type: ignore[arg-type]
                    if m.payload == b"yours":
                        return out
            return out

    assert asyncio.run(scenario()) == [(topic("gw-new", TopicKind.CONFIG), b"yours")]

    # Rotation: the old secret stops working, the new one works.
    rotated = wired.post("/api/v1/gateways/gw-new/credentials/rotate",
                         headers=world.headers("admin1")).json()["password"]

    async def connect(password: str) -> bool:
        try:
            async with _client(broker, "gw-new", password):
                return True
        except aiomqtt.MqttError:
            return False

    assert asyncio.run(connect(rotated)) and not asyncio.run(connect(secret))
    r = wired.post("/api/v1/gateways/gw-new/credentials/revoke", headers=world.headers("admin1"))
    assert r.status_code == 200 and r.json()["credential"] == "revoked"
    assert not asyncio.run(connect(rotated))


@pytest.mark.services
def test_threshold_change_reaches_only_that_gateway_retained(
    wired: TestClient, world: World, broker: Mosquitto
) -> None:
    admin = world.headers("admin1")
    a = wired.post("/api/v1/gateways", headers=admin,
                   json={"id": "gw-a", "patients": ["demo-patient-1"]}).json()["password"]
    b = wired.post("/api/v1/gateways", headers=admin,
                   json={"id": "gw-b", "patients": ["ref-patient"]}).json()["password"]
    rules = {"glucose_low": {"unit": "mmol/L", "tier": {"warning": {"lt": 4.2}}}}
    r = wired.put("/api/v1/patients/demo-patient-1/thresholds/clinician",
                  headers=world.headers("demo"),
                  json={"rules": rules, "reason": "nocturnal lows", "timezone": "Asia/Shanghai"})
    assert r.status_code == 200, r.text
    pushes = {p["gateway_id"]: p for p in r.json()["pushes"]}
    assert pushes["gw-a"]["status"] == "published"
    got_a = asyncio.run(_retained(broker, "gw-a", a, "gw-a"))
    assert len(got_a) == 1
    message = decode(got_a[0])
    assert isinstance(message, ConfigMessage)
    ctx = message.body["rules"]["patients"]["demo-patient-1"]
    assert ctx["clinician"] == {"version": "1", "rules": rules}
    assert ctx["timezone"] == "Asia/Shanghai"
    # gw-b serves another patient: nothing retained for it, and it cannot read gw-a's.
    assert asyncio.run(_retained(broker, "gw-b", b, "gw-b")) == []
    assert asyncio.run(_retained(broker, "gw-b", b, "gw-a")) == []


@pytest.mark.services
def test_push_failure_is_reported_and_retried(world: World, db_url: str, tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path / "late")
    settings = CloudSettings(database_url=db_url,
                             jwt_secret="test-secret-of-at-least-32-bytes-length",
                             config_mqtt_url="mqtt://127.0.0.1:1", config_retry_s=0.2)
    with TestClient(create_app(settings)) as client:
        r = client.put("/api/v1/patients/demo-patient-1/thresholds/clinician",
                       headers=world.headers("demo"), json={"rules": {}, "reason": "baseline"})
        push = r.json()["pushes"][0]
        assert push["status"] == "pending" and push["last_error"]
        broker.start()
        try:
            settings.config_mqtt_url = f"mqtt://{broker.host}:{broker.port}"
            from cloud_api.broker.background import make_config_publisher
            client.app.state.config_publisher = make_config_publisher(settings)  # type: ignore[attr-defined]
            for _ in range(50):
                status = client.get("/api/v1/patients/demo-patient-1/thresholds",
                                    headers=world.headers("demo")).json()["pushes"][0]["status"]
                if status == "published":
                    break
                asyncio.run(asyncio.sleep(0.1))
            assert status == "published"
        finally:
            broker.stop()
