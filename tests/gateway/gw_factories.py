"""Factories for gateway tests: readings and alerts built directly (no codecs needed), and
a whole-gateway config for runs against a local broker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gateway.config import GatewayConfig
from vitals.alerts import Alert, Severity
from vitals.ids import new_msg_id
from vitals.readings import BloodPressure, DeviceRef

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
CUFF = DeviceRef(make="HomeRPM", model="SimCuff", serial="sim-1")


def bp(i: int = 0, systolic: float = 120.0, patient: str = "p-test") -> BloodPressure:
    at = T0 + timedelta(minutes=i)
    return BloodPressure(
        msg_id=new_msg_id(at), patient=patient, device=CUFF, measured_at=at, received_at=at,
        simulated=True, systolic=systolic, diastolic=80.0, pulse=70.0, seq=i,
    )


def alert(reading: BloodPressure, severity: Severity = Severity.URGENT) -> Alert:
    return Alert(
        alert_id=new_msg_id(), msg_id=new_msg_id(), patient=reading.patient,
        rule_id="bp.test", rule_version="1", severity=severity,
        title="test alert", explanation=f"systolic {reading.systolic} mmHg",
        raised_at=reading.measured_at, updated_at=reading.measured_at, simulated=True,
    )


async def until(cond: Callable[[], bool], within: float = 20.0) -> None:
    """Poll ``cond`` until true (fails the test with TimeoutError after ``within`` s)."""
    async with asyncio.timeout(within):
        while not cond():  # noqa: ASYNC110 - polling plain state owned by other tasks
            await asyncio.sleep(0.02)


def quick_gateway(gateway_id: str, tmp_path: Path, port: int, **fields: Any) -> GatewayConfig:
    """A gateway on the local broker at ``port`` that reconnects, reports status and dies
    quickly (no Last-Will delay), with its outbox in ``tmp_path`` and no status page;
    ``fields`` (devices, rules, outbox, ...) are merged over that."""
    base: dict[str, Any] = {
        "gateway_id": gateway_id, "status_interval_s": 0.3,
        "mqtt": {"url": f"mqtt://127.0.0.1:{port}", "will_delay_s": 0,
                 "reconnect_min_s": 0.1, "reconnect_max_s": 0.5},
        "outbox": {"path": tmp_path / "outbox.db"},
        "status_page": {"enabled": False},
    }
    return GatewayConfig.model_validate(base | fields)
