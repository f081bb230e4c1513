"""Alert explanations: what was measured, which limit, never a diagnosis."""

from __future__ import annotations

import re

from edge_rules.overrides import PatientContext
from tests.edge_rules.rules_helpers import DEFAULTS, Driver, P, at, bp, glucose, hr, strip


def all_alerts() -> list:  # type: ignore[type-arg]
    d = Driver()
    d.feed([glucose(at(0), 50), bp(at(0), 190, 100), bp(at(2), 192, 100)])
    for s in range(0, 310, 10):
        d.feed(strip(at(1, s), 2))
    for s in range(0, 330, 30):
        d.feed(hr(at(10, s), 35))
    d.tick(at(60))
    return d.alerts


def test_no_alert_text_states_a_diagnosis() -> None:
    alerts = all_alerts()
    assert {a.rule_id for a in alerts} >= {
        "glucose_low",
        "bp_severe",
        "ecg_possible_af",
        "heart_rate_low",
        "stale_ecg",
    }
    forbidden = re.compile(r"\b(you have|diagnosed|hypertension|diabetes|arrhythmia)\b", re.I)
    for a in alerts:
        assert not forbidden.search(a.title + " " + a.explanation), a.explanation
        assert a.rule_version == DEFAULTS.version and a.source


def test_explanation_names_value_limit_and_time_in_patient_zone() -> None:
    ctx = {P: PatientContext.from_mapping({"timezone": "Asia/Shanghai"})}
    (a,) = Driver(contexts=ctx).feed(glucose(at(0), 50))
    assert "Glucose 50 mg/dL measured at 20:00 is below the urgent limit (< 54 mg/dL)" in (
        a.explanation
    )
    assert a.thresholds["urgent_lt"] == 54 and a.thresholds["warning_clear"] == 80
    assert a.inputs[0].value == 50 and a.inputs[0].unit == "mg/dL"


def test_mmol_rules_speak_mmol() -> None:
    ctx = {
        P: PatientContext.from_mapping(
            {
                "clinician": {
                    "rules": {"glucose_low": {"unit": "mmol/L", "tier": {"warning": {"lt": 3.9}}}}
                }
            }
        )
    }
    (a,) = Driver(contexts=ctx).feed(glucose(at(0), 60))
    assert "Glucose 3.3 mmol/L" in a.explanation and "< 3.9 mmol/L" in a.explanation
    assert a.rule_version.endswith("+c0")


def test_af_alert_wording() -> None:
    af = next(a for a in all_alerts() if a.rule_id == "ecg_possible_af")
    assert af.title == ("Possible atrial fibrillation — irregular rhythm pattern, clinician review")
    assert "not a diagnosis" in af.explanation


def test_meter_lo_is_called_out() -> None:
    from vitals.readings import RangeFlag

    lo = glucose(at(0), 20, cgm=False).model_copy(update={"range_flag": RangeFlag.LOW})
    (a,) = Driver().feed(lo)
    assert "Glucose 20 mg/dL (meter shows LO: below its measuring range)" in a.explanation
    assert a.severity.label == "urgent"
