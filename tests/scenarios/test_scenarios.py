"""Run every scenario in firmware_sim/scenarios through the engine with a fake clock.

Each scenario file states the exact alert sequence (time, rule, severity, state); the engine is
evaluated at every tick with the readings that arrived since the previous tick, user actions
(snooze, restart = serialise + reload the state) are applied at their times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from edge_rules.engine import evaluate
from edge_rules.overrides import PatientContext
from edge_rules.ruleset import load_ruleset, parse_duration
from edge_rules.snooze import snooze
from edge_rules.state import EngineState, state_from_json, state_to_json
from firmware_sim.scenario import Scenario, load_scenario, scenario_files
from tests.scenarios.scenario_ecg import analyzer
from vitals.alerts import Alert


@dataclass
class Run:
    events: list[tuple[timedelta, str, str, str]]
    alerts: list[Alert]
    state: EngineState
    restarts: int


def run_scenario(scn: Scenario, ecg: Any) -> Run:
    ruleset = load_ruleset(profile=scn.profile)
    ctx = PatientContext.from_mapping(scn.context)
    overrides = {scn.patient: ctx}
    state = EngineState()
    pending = list(scn.readings)
    events: list[tuple[timedelta, str, str, str]] = []
    alerts: list[Alert] = []
    restarts = 0
    for now in scn.ticks():
        for action in (a for a in scn.actions if a.at == now):
            if action.do == "snooze":
                state, _ = snooze(
                    state,
                    patient=scn.patient,
                    rule_id=action.params["rule"],
                    duration_s=parse_duration(action.params["for"]),
                    now=now,
                    ruleset=ruleset,
                    context=ctx,
                )
            elif action.do == "restart":
                state = state_from_json(state_to_json(state))
                restarts += 1
            else:
                raise AssertionError(f"unknown action {action.do}")
        batch = [r for r in pending if Scenario.arrival(r) <= now]
        pending = pending[len(batch) :]
        out, state = evaluate(
            batch, state, now, ruleset=ruleset, overrides=overrides, ecg_analyzer=ecg
        )
        alerts += out
        events += [(now - scn.start, a.rule_id, a.severity.label, a.state.value) for a in out]
    return Run(events, alerts, state, restarts)


SCENARIOS = {p.stem: p for p in scenario_files()}


def test_all_listed_scenarios_exist() -> None:
    assert {
        "night_hypo",
        "bp_crisis",
        "single_high_bp",
        "af_episode",
        "noisy_ecg",
        "stale_cgm",
        "snooze_worsens",
        "restart_open_alert",
    } <= set(SCENARIOS)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_produces_exactly_the_expected_alerts(name: str) -> None:
    scn = load_scenario(SCENARIOS[name])
    run = run_scenario(scn, analyzer)
    expected = [(x.at - scn.start, x.rule_id, x.severity, x.state) for x in scn.expected]
    assert run.events == expected
    assert all(a.simulated for a in run.alerts)
    for a in run.alerts:  # every alert explains itself
        assert a.source and a.explanation and a.inputs and a.thresholds
        assert all(i.msg_id for i in a.inputs)


def test_night_hypo_urgent_bypasses_quiet_hours_but_warning_is_held() -> None:
    scn = load_scenario(SCENARIOS["night_hypo"])
    run = run_scenario(scn, analyzer)
    first = run.alerts[0]
    assert first.severity.label == "urgent" and "52 mg/dL" in first.explanation
    # the held warning is visible in the state's audit field while quiet hours last
    assert run.state.open_alerts() == []


def test_restart_keeps_alert_id_and_does_not_refire() -> None:
    scn = load_scenario(SCENARIOS["restart_open_alert"])
    run = run_scenario(scn, analyzer)
    assert run.restarts == 1
    opened, cleared = run.alerts
    assert opened.alert_id == cleared.alert_id and opened.msg_id != cleared.msg_id


def test_restart_without_serialisation_gives_the_same_events() -> None:
    scn = load_scenario(SCENARIOS["restart_open_alert"])
    plain = Scenario(**{**scn.__dict__, "actions": ()})
    assert run_scenario(plain, analyzer).events == run_scenario(scn, analyzer).events


def test_snooze_worsens_urgent_fires_through_snooze() -> None:
    scn = load_scenario(SCENARIOS["snooze_worsens"])
    run = run_scenario(scn, analyzer)
    track = run.state.track(scn.patient, "glucose_low")
    assert track is not None and track.snooze is not None  # still snoozed, yet urgent was sent
    assert run.alerts[-1].severity.label == "urgent"


def test_bp_crisis_confirmation_cites_both_readings() -> None:
    scn = load_scenario(SCENARIOS["bp_crisis"])
    run = run_scenario(scn, analyzer)
    urgent = run.alerts[1]
    assert len({i.msg_id for i in urgent.inputs}) == 2
    assert "186/104" in urgent.explanation and "188/112" in urgent.explanation


def test_scenario_files_are_in_the_package() -> None:
    assert all(Path(p).parent.name == "scenarios" for p in SCENARIOS.values())


def test_scenario_loader_errors_name_the_file(tmp_path: Path) -> None:
    from firmware_sim.scenario import ScenarioError

    bad = tmp_path / "bad.toml"
    bad.write_text('[scenario]\npatient = "x"\nstart = "yesterday"\nduration = "1m"\n')
    with pytest.raises(ScenarioError, match=r"bad\.toml"):
        load_scenario(bad)
    series = tmp_path / "series.toml"
    series.write_text(
        '[scenario]\npatient = "x"\nstart = "2026-01-01T00:00:00Z"\nduration = "1m"\n'
        "[[glucose]]\nmg_dl = [100, 110]\n"
    )
    with pytest.raises(ScenarioError, match="needs 'every'"):
        load_scenario(series)


def test_synthetic_ecg_and_readings_are_simulated_and_timed() -> None:
    scn = load_scenario(SCENARIOS["af_episode"])
    strips = [r for r in scn.readings if r.kind == "ecg"]
    assert all(r.simulated for r in scn.readings)
    assert [(s.start - scn.start).total_seconds() for s in strips[:3]] == [0, 30, 60]
    assert max(strips[0].samples_uv) > 1000  # R waves ~1.2 mV
    glucose = load_scenario(SCENARIOS["stale_cgm"]).readings[0]
    assert glucose.unit_received == "mmol/L" and round(glucose.mg_dl) == 117


def test_the_ecg_scenarios_exercise_what_they_claim() -> None:
    import numpy as np

    def verdicts(name: str) -> list[tuple[str, bool]]:
        out = []
        for r in load_scenario(SCENARIOS[name]).readings:
            a = analyzer(np.asarray(r.samples_uv) / 1000.0, r.fs_hz)  # type: ignore[attr-defined]
            out.append((str(a.quality.value), bool(a.af_suspected)))
        return out

    noisy = verdicts("noisy_ecg")
    assert noisy and all(q != "good" for q, _ in noisy)  # rated unusable, not "no AF"
    af = verdicts("af_episode")
    assert [flag for _, flag in af[:5]] == [False, False, True, True, True]
