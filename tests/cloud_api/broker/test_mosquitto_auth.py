"""Per-gateway credentials and ACLs, checked against a real mosquitto."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import aiomqtt
import pytest

from cloud_api.broker.mosquitto_auth import (
    ServiceAccount,
    ServiceRole,
    check_gateway_username,
    hash_password,
    new_secret,
    render_acl,
    render_password_file,
    verify_password,
)
from firmware_sim.services import Mosquitto
from vitals.topics import TopicKind, subscription, topic


def test_hash_is_mosquitto_format_and_verifies() -> None:
    hashed = hash_password("s3cret", iterations=101)
    assert hashed.startswith("$7$101$")
    assert verify_password("s3cret", hashed)
    assert not verify_password("wrong", hashed)
    assert "s3cret" not in hashed


def test_hash_matches_mosquitto_passwd(tmp_path: Path) -> None:
    # mosquitto_passwd's own hash must verify with our code (same format, same KDF).
    path = tmp_path / "pw"
    path.write_text("")
    subprocess.run(["mosquitto_passwd", "-b", str(path), "gw-1", "pa55"], check=True)
    hashed = path.read_text().strip().split(":", 1)[1]
    assert verify_password("pa55", hashed)


def test_gateway_names_cannot_impersonate_services() -> None:
    with pytest.raises(ValueError):
        check_gateway_username("svc-ingest")
    with pytest.raises(ValueError):
        ServiceAccount("ingest", ServiceRole.INGEST)


def test_acl_lists_service_rules_and_gateway_patterns() -> None:
    acl = render_acl([ServiceAccount("svc-ingest", ServiceRole.INGEST)])
    assert "user svc-ingest\ntopic read homerpm/v1/+/up/#" in acl
    assert "pattern write homerpm/v1/%u/up/#" in acl
    assert "pattern read homerpm/v1/%u/ack" in acl


@pytest.fixture
def secured(tmp_path: Path) -> tuple[Mosquitto, dict[str, str]]:
    secrets_ = {"gw-a": new_secret(), "gw-b": new_secret(), "svc-ingest": new_secret()}
    broker = Mosquitto(tmp_path / "broker", passwords={"placeholder": "x"})
    broker.start()
    # Replace the launcher's files with ours and reload, as the cloud does after provisioning.
    (broker.workdir / "passwords").write_text(
        render_password_file({u: hash_password(p) for u, p in secrets_.items()})
    )
    (broker.workdir / "acl").write_text(
        render_acl([ServiceAccount("svc-ingest", ServiceRole.INGEST)])
    )
    broker.reload()
    yield broker, secrets_
    broker.stop()


def _client(broker: Mosquitto, user: str, password: str) -> aiomqtt.Client:
    return aiomqtt.Client(
        broker.host,
        broker.auth_port,
        identifier=user,
        username=user,
        password=password,
        protocol=aiomqtt.ProtocolVersion.V5,
    )


@pytest.mark.services
async def test_wrong_password_is_refused(secured: tuple[Mosquitto, dict[str, str]]) -> None:
    broker, _ = secured
    with pytest.raises(aiomqtt.MqttError):
        async with _client(broker, "gw-a", "not-the-secret"):
            pass


async def _first_messages(client: aiomqtt.Client, stop: bytes) -> list[tuple[str, bytes]]:
    received = []
    async with asyncio.timeout(5):
        async for message in client.messages:
            received.append((str(message.topic), bytes(message.payload)))  # type: ignore[arg-type]
            if message.payload == stop:
                return received
    return received


@pytest.mark.services
async def test_gateway_cannot_publish_into_another_gateways_subtree(
    secured: tuple[Mosquitto, dict[str, str]],
) -> None:
    broker, secrets_ = secured
    async with (
        _client(broker, "svc-ingest", secrets_["svc-ingest"]) as ingest,
        _client(broker, "gw-a", secrets_["gw-a"]) as gw_a,
    ):
        await ingest.subscribe(subscription(TopicKind.READINGS), qos=1)
        await gw_a.publish(topic("gw-b", TopicKind.READINGS), b"forged", qos=1)
        await gw_a.publish(topic("gw-a", TopicKind.READINGS), b"own", qos=1)
        received = await _first_messages(ingest, stop=b"own")
    assert received == [(topic("gw-a", TopicKind.READINGS), b"own")]


@pytest.mark.services
async def test_gateway_cannot_read_another_gateways_acks(
    secured: tuple[Mosquitto, dict[str, str]],
) -> None:
    broker, secrets_ = secured
    async with (
        _client(broker, "svc-ingest", secrets_["svc-ingest"]) as ingest,
        _client(broker, "gw-a", secrets_["gw-a"]) as gw_a,
    ):
        # mosquitto grants the subscription but never delivers what the ACL forbids.
        await gw_a.subscribe(subscription(TopicKind.ACK), qos=1)
        await ingest.publish(topic("gw-b", TopicKind.ACK), b"for-b", qos=1)
        await ingest.publish(topic("gw-a", TopicKind.ACK), b"for-a", qos=1)
        received = await _first_messages(gw_a, stop=b"for-a")
    assert received == [(topic("gw-a", TopicKind.ACK), b"for-a")]
