"""Config: TOML + environment overrides, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import ConfigError, load_config

MINIMAL = """
gateway_id = "gw-1"
[outbox]
path = "/tmp/x.db"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(text)
    return path


def test_full_example_parses(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    cfg = load_config(write(tmp_path, f"""
gateway_id = "gw-7"
status_interval_s = 30
[mqtt]
url = "mqtts://broker.example.org"
username = "gw-7"
password = "secret"
ca_file = "{ca}"
[outbox]
path = "{tmp_path}/o.db"
max_mb = 100
window = 4
[[devices]]
kind = "blood_pressure"
simulated = true
patient = "p-1"
interval_s = 5
scenario = "crisis"
[[devices]]
id = "omron"
kind = "blood_pressure"
address = "AA:BB:CC:DD:EE:FF"
patient = "p-1"
"""))
    assert cfg.mqtt.tls and cfg.mqtt.port == 8883 and cfg.mqtt.host == "broker.example.org"
    assert cfg.outbox.window == 4
    assert [d.id for d in cfg.devices] == ["blood_pressure-1", "omron"]
    assert cfg.devices[0].scenario == "crisis"


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOMERPM_GATEWAY_MQTT__PASSWORD", "from-env")
    monkeypatch.setenv("HOMERPM_GATEWAY_OUTBOX__WINDOW", "3")
    cfg = load_config(write(tmp_path, MINIMAL + 'window = 9\n[mqtt]\npassword = "file"\n'))
    assert cfg.mqtt.password == "from-env"
    assert cfg.outbox.window == 3
    assert cfg.outbox.path == Path("/tmp/x.db")  # untouched keys keep the file's value


@pytest.mark.parametrize(("text", "expected"), [
    ('gateway_id = "bad id!"', "gateway_id"),
    (MINIMAL + '[mqtt]\nurl = "http://x"', "mqtt.url"),
    (MINIMAL + 'typo_key = 1', "typo_key"),
    (MINIMAL + '[[devices]]\nkind = "blood_pressure"\npatient = "p"', "exactly one of"),
    (MINIMAL + '[[devices]]\nkind = "toaster"\nsimulated = true\npatient = "p"', "devices.0.kind"),
    (MINIMAL + '[mqtt]\nca_file = "/nonexistent/ca.pem"', "ca_file"),
    ("gateway_id = ", "not valid TOML"),
])
def test_errors_name_the_problem(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    assert expected in str(err.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.toml")


def test_new_sections_parse_and_bad_values_name_the_key(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, MINIMAL + """
[rules]
profile = "aha"
tick_s = 45
[rules.patients.p-1]
timezone = "Europe/Berlin"
[webhook]
url = "http://192.168.1.20:9000/alerts"
secret = "s"
min_severity = "warning"
[status_page]
port = 8081
[bluetooth]
adapter = "hci1"
[[devices]]
kind = "ecg"
simulated = true
patient = "p-1"
[[devices]]
kind = "glucose"
address = "c0:ff:ee:00:00:02"
patient = "p-1"
"""))
    assert cfg.rules.profile == "aha" and cfg.webhook.min_severity == "warning"
    assert [d.sim for d in cfg.devices if d.simulated] == ["gatt"]
    assert cfg.devices[0].ecg_segment_s == 30
    for bad, key in [
        ('[rules]\nprofile = "nope"\n', "rules"),
        ('[webhook]\nurl = "ftp://x"\n', "webhook.url"),
        ('[[devices]]\nkind = "glucose"\nsimulated = true\nsimulator = "scenario"\n'
         'patient = "p"\n', "devices.0"),
        ('[status_page]\nport = 70000\n', "status_page.port"),
    ]:
        with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
            load_config(write(tmp_path, MINIMAL + bad))


def test_environment_json_values_and_unknown_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("homerpm_gateway_status_page__enabled", "false")  # any case
    monkeypatch.setenv("HOMERPM_GATEWAY_OFFLINE_AFTER_S", "600")  # the cloud's: not ours
    monkeypatch.setenv("HOMERPM_GATEWAY_RULES__PATIENTS", '{"p-1": {"timezone": "UTC"}}')
    cfg = load_config(write(tmp_path, MINIMAL))
    assert cfg.status_page.enabled is False
    assert cfg.rules.patients == {"p-1": {"timezone": "UTC"}}
    monkeypatch.setenv("HOMERPM_GATEWAY_OUTBOX__WINDOWS", "3")  # a typo is an error, by key
    with pytest.raises(ConfigError, match=r"outbox\.windows"):
        load_config(write(tmp_path, MINIMAL))
