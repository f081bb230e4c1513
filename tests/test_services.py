import socket
import urllib.request

import pytest

from firmware_sim.services import Influxd, Mosquitto

pytestmark = pytest.mark.services


def test_mosquitto_listens_and_stops(mosquitto: Mosquitto) -> None:
    with socket.create_connection((mosquitto.host, mosquitto.port), timeout=2):
        pass
    mosquitto.stop()
    with pytest.raises(OSError):
        socket.create_connection((mosquitto.host, mosquitto.port), timeout=1)


def test_influxd_answers_ping(influxd: Influxd) -> None:
    with urllib.request.urlopen(f"{influxd.url}/ping", timeout=5) as resp:
        assert resp.status == 204
