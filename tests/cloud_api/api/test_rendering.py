"""The pre-serialised hot reads (api/rendering.py) send exactly what their response models
would: same fields, same order, same bytes as FastAPI's ``response_model`` serialisation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter

from cloud_api.alerting.policy import DEFAULT_POLICY
from cloud_api.alerting.views import INBOX_COLUMNS, AlertsPageOut, inbox_item
from cloud_api.api.access_schemas import UnitPrefs
from cloud_api.api.rendering import dump
from cloud_api.api.routes.patients import _reading_out
from cloud_api.api.schemas import PatientOut, ReadingsPageOut
from cloud_api.db.reads import READING_COLUMNS
from vitals.alerts import Severity

AT = datetime(2026, 11, 25, 8, 1, 2, 345678, tzinfo=UTC)
WHOLE = datetime(2026, 11, 25, 8, 1, tzinfo=UTC)


def as_model_would(model: Any, body: bytes) -> bytes:
    """Validate ``body`` against ``model`` and serialise it the way FastAPI does."""
    adapter: TypeAdapter[Any] = TypeAdapter(model)
    return adapter.dump_json(adapter.validate_json(body))


def reading(kind: str, body: dict[str, Any]) -> tuple[Any, ...]:
    """A row of READING_COLUMNS."""
    fields = {"msg_id": "01JDQ3Z8X7M4K2V5N9R0T6W1YB", "patient_id": "p-1",
              "gateway_id": "gw-1", "kind": kind, "measured_at": AT, "received_at": WHOLE,
              "device_key": "SIM-ü1", "simulated": True, "body": body}
    return tuple(fields[c.key] for c in READING_COLUMNS)


@pytest.mark.parametrize("prefs", [None, UnitPrefs(),
                                   UnitPrefs(bp_unit="kPa", glucose_unit="mmol/L")])
def test_readings_page_matches_the_model(prefs: UnitPrefs | None) -> None:
    device = {"make": "Omrön", "model": "BP7450", "serial": "SIM-ü1", "address": None}
    rows = [
        reading("blood_pressure", {"msg_id": "x", "kind": "blood_pressure", "device": device,
                                   "systolic": 128.4, "diastolic": 82.0, "pulse": 71.0,
                                   "mean_arterial": None, "unit_received": "mmHg"}),
        reading("glucose", {"kind": "glucose", "device": {}, "mg_dl": 101.0,
                            "meal": "fasting"}),
        reading("heart_rate", {"kind": "heart_rate", "device": device, "bpm": 61,
                               "extra": [1.5e-7, 1e300, "é"]}),
    ]
    body = dump({"items": [_reading_out(r, prefs) for r in rows], "next_cursor": "abc"})
    assert body == as_model_would(ReadingsPageOut, body)
    items = ReadingsPageOut.model_validate_json(body).items
    assert [i.kind for i in items] == ["blood_pressure", "glucose", "heart_rate"]
    assert items[0].values == {"systolic": 128.4, "diastolic": 82.0, "pulse": 71.0,
                               "mean_arterial": None, "unit_received": "mmHg"}
    if prefs is None:
        assert all(i.display is None for i in items)
    elif prefs.bp_unit == "kPa":
        assert items[0].display == {"systolic": 17.1, "diastolic": 10.9, "unit": "kPa"}
        assert items[1].display == {"glucose": 5.6, "unit": "mmol/L"}
    else:
        assert items[0].display == {"systolic": 128.4, "diastolic": 82.0, "unit": "mmHg"}
        assert items[1].display == {"glucose": 101, "unit": "mg/dL"}
    assert items[1].device.make == "?" and items[0].device.key == "SIM-ü1"


def test_inbox_page_matches_the_model() -> None:
    why = {"rule_id": "bp.high", "rule_version": 2, "explanation": "SBP ≥ 180",
           "inputs": {"systolic": 181.0}, "thresholds": {"systolic": 180}, "source": "edge",
           "origin": None}
    rows = [dict(
        alert_id=f"A{i}", patient_id="p-1", gateway_id=None if i else "gw-1",
        rule_id="bp.high", severity=int(level), title="Blood pressure ≥ 180", status="raised",
        engine_state="open", raised_at=AT, updated_at=WHOLE, simulated=bool(i),
        assignee_id=i or None, escalation_level=i, next_escalation_at=AT if i else None,
        snoozed_until=None, acknowledged_at=WHOLE if i else None, acknowledged_by="demo",
        resolved_at=None, resolved_by=None, org_id=1, body={**why, "other": "not shown"},
    ) for i, level in enumerate([Severity.URGENT, Severity.WARNING, Severity.INFO,
                                 Severity.URGENT])]
    policies = {1: DEFAULT_POLICY}
    # Rows of INBOX_COLUMNS: AlertRow.state is the model's engine_state.
    names = [("engine_state" if c.key == "state" else c.key) for c in INBOX_COLUMNS]
    items = [inbox_item(None, [row[n] for n in names], policies)  # type: ignore[arg-type]
             for row in rows]
    body = dump({"items": items, "next_cursor": None})
    assert body == as_model_would(AlertsPageOut, body)
    page = AlertsPageOut.model_validate_json(body)
    assert [a.severity for a in page.items] == ["urgent", "warning", "info", "urgent"]
    steps = DEFAULT_POLICY.steps
    assert [a.tier for a in page.items] == [steps[min(i, len(steps) - 1)].tier for i in range(4)]
    assert page.items[0].why == why and page.items[0].history is None


def test_patient_list_matches_the_model() -> None:
    body = dump([{"id": "p-1", "display_name": "Zoë Example (simulated)", "mrn": None},
                 {"id": "p-2", "display_name": "B", "mrn": "MRN-2"}])
    assert body == as_model_would(list[PatientOut], body)
