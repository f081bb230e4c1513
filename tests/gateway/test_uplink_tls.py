"""The uplink over TLS (``mqtts://``) to a real mosquitto, with and without a client cert.

Certificates are made on the fly with the ``openssl`` command line (a throw-away CA, a
broker certificate for 127.0.0.1 and a client certificate).
"""

from __future__ import annotations

import asyncio
import getpass
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest

from firmware_sim.services import find_binary, free_port, spawn, wait_for_port
from gateway.app import mqtt_settings
from gateway.config import GatewayConfig
from gateway.uplink import MqttUplink
from tests.gateway.gw_factories import bp, until
from vitals import topics

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command"),
]
GW = "gw-tls"


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("pki")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
            "-keyout", "ca.key", "-out", "ca.crt", cwd=d)
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    for name, cn in (("broker", "127.0.0.1"), ("client", GW)):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={cn}",
                "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-out", f"{name}.crt",
                *(["-extfile", "san.ext"] if name == "broker" else []), cwd=d)
    return d


@pytest.fixture
def tls_broker(tmp_path: Path, pki: Path) -> Iterator[int]:
    """mosquitto with a TLS listener that requires a client certificate."""
    port = free_port()
    conf = tmp_path / "tls.conf"
    # Run as ourselves: mosquitto started as root would switch to "mosquitto", which can't
    # read the certificates in pytest's private temp directory.
    conf.write_text(f"""per_listener_settings true
user {getpass.getuser()}
listener {port} 127.0.0.1
allow_anonymous true
cafile {pki / "ca.crt"}
certfile {pki / "broker.crt"}
keyfile {pki / "broker.key"}
require_certificate true
""")
    binary = find_binary("mosquitto", "sudo apt-get install -y mosquitto")
    proc = spawn("mosquitto-tls", [binary, "-c", str(conf)], tmp_path)
    try:
        wait_for_port("127.0.0.1", port, 15, proc.proc)
        yield port
    finally:
        proc.stop()


def config(tmp_path: Path, port: int, pki: Path, client_cert: bool) -> GatewayConfig:
    mqtt: dict[str, object] = {"url": f"mqtts://127.0.0.1:{port}", "ca_file": pki / "ca.crt",
                               "reconnect_min_s": 0.1, "reconnect_max_s": 0.3}
    if client_cert:
        mqtt |= {"cert_file": pki / "client.crt", "key_file": pki / "client.key"}
    return GatewayConfig(gateway_id=GW, mqtt=mqtt, outbox={"path": tmp_path / "o.db"})


async def test_tls_with_client_certificate_connects_and_publishes(
    tmp_path: Path, pki: Path, tls_broker: int
) -> None:
    uplink = MqttUplink(mqtt_settings(config(tmp_path, tls_broker, pki, True)),
                        lambda: b'{"state":"online"}', lambda: b'{"state":"offline"}')
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(uplink.run())
        await until(lambda: uplink.connected, within=10)
        payload = bp(1).model_dump_json().encode()
        await uplink.publish(topics.topic(GW, topics.TopicKind.READINGS), payload)
        await uplink.go_offline()
        task.cancel()
    assert uplink.connects == 1
    # The retained status written over TLS is readable by a second TLS client.
    tls = aiomqtt.TLSParameters(ca_certs=str(pki / "ca.crt"), certfile=str(pki / "client.crt"),
                                keyfile=str(pki / "client.key"))
    async with aiomqtt.Client("127.0.0.1", tls_broker, tls_params=tls) as reader:
        await reader.subscribe(topics.topic(GW, topics.TopicKind.STATUS), qos=1)
        async with asyncio.timeout(5):
            msg = await anext(aiter(reader.messages))
    assert msg.payload == b'{"state":"offline"}' and msg.retain


async def test_tls_without_required_client_certificate_never_connects(
    tmp_path: Path, pki: Path, tls_broker: int
) -> None:
    uplink = MqttUplink(mqtt_settings(config(tmp_path, tls_broker, pki, False)),
                        lambda: b"on", lambda: b"off")
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(uplink.run())
        await asyncio.sleep(1.0)
        assert not uplink.connected and uplink.connects == 0
        task.cancel()



async def test_tls_broker_certificate_from_an_untrusted_ca_is_refused(
    tmp_path: Path, pki: Path, tls_broker: int
) -> None:
    """The clinic's CA file is the only trust anchor: a broker whose certificate another CA
    signed (a spoofed endpoint) is never connected to, even with a valid client cert."""
    rogue = tmp_path / "rogue"
    rogue.mkdir()
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            "/CN=rogue-ca", "-keyout", "ca.key", "-out", "ca.crt", cwd=rogue)
    cfg = config(tmp_path, tls_broker, pki, True)
    cfg = cfg.model_copy(update={"mqtt": cfg.mqtt.model_copy(update={"ca_file": rogue / "ca.crt"})})
    uplink = MqttUplink(mqtt_settings(cfg), lambda: b"on", lambda: b"off")
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(uplink.run())
        await asyncio.sleep(1.5)
        assert not uplink.connected and uplink.connects == 0
        task.cancel()
    # Control: the same settings with the right CA do connect.
    good = MqttUplink(mqtt_settings(config(tmp_path, tls_broker, pki, True)),
                      lambda: b"on", lambda: b"off")
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(good.run())
        await until(lambda: good.connected, within=10)
        task.cancel()
