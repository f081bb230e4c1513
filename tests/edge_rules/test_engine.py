"""The engine: tiers, persistence, hysteresis, dedupe/update, BP confirmation, stale data."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from edge_rules.engine import evaluate
from edge_rules.overrides import PatientContext
from edge_rules.ruleset import loads_ruleset
from edge_rules.state import EngineState, state_to_json
from tests.edge_rules.rules_helpers import DEFAULTS, Driver, P, at, bp, events, glucose, hr, strip
from vitals.alerts import AlertState


def cgm_series(d: Driver, values: list[float], start_min: float = 0, every: float = 5) -> None:
    for i, v in enumerate(values):
        d.feed(glucose(at(start_min + i * every), v))


def test_one_open_alert_per_rule_updated_not_duplicated() -> None:
    d = Driver()
    (opened,) = d.feed(glucose(at(0), 65))
    assert d.feed(glucose(at(5), 62)) == []  # same tier: no new event
    (escalated,) = d.feed(glucose(at(10), 50))
    assert (opened.state, escalated.state) == (AlertState.OPEN, AlertState.UPDATED)
    assert opened.alert_id == escalated.alert_id and opened.msg_id != escalated.msg_id
    assert escalated.raised_at == opened.raised_at and escalated.updated_at == at(10)


def test_a_re_uploaded_reading_is_ignored() -> None:
    d = Driver()
    reading = glucose(at(0), 60)
    assert len(d.feed(reading)) == 1
    before = state_to_json(d.state)
    assert d.feed(reading, now=at(1)) == []
    assert state_to_json(d.state) == before


def test_hysteresis_clear_needs_80_for_15_minutes() -> None:
    d = Driver()
    cgm_series(d, [65, 75, 81, 85, 78, 82, 84, 86])  # the dip to 78 restarts the clear clock
    assert [a.state for a in d.alerts] == [AlertState.OPEN]
    (cleared,) = d.feed(glucose(at(40), 88))  # >= 80 since 25 min, 15 min held
    assert cleared.state is AlertState.CLEARED and cleared.cleared_at == at(40)
    assert "back to 88 mg/dL" in cleared.explanation and "80 mg/dL" in cleared.explanation
    assert d.state.open_alerts() == []


def test_urgent_deescalates_to_warning_before_clearing() -> None:
    d = Driver()
    cgm_series(d, [50, 72, 74, 76, 77])
    assert events(d.alerts) == [
        ("glucose_low", "urgent", "open"),
        ("glucose_low", "warning", "updated"),  # >= 70 for 15 min, still < 80
    ]
    assert "not yet stayed at or above 80 mg/dL" in d.alerts[-1].explanation


def test_duration_persistence_and_max_gap() -> None:
    d = Driver()
    for s in range(0, 300, 30):  # 0..270 s: only 4.5 min
        d.feed(hr(at(seconds=s), 115))
    assert d.alerts == []
    (opened,) = d.feed(hr(at(seconds=300), 115))
    assert events([opened]) == [("heart_rate_high", "warning", "open")]
    assert "sustained since 12:00" in opened.explanation

    d2 = Driver()
    for s in [*range(0, 150, 30), *range(240, 540, 30)]:  # 120-s hole > max_gap 60 s
        d2.feed(hr(at(seconds=s), 115))
    assert d2.alerts == []  # persistence restarted at 240 s ...
    assert len(d2.feed(hr(at(seconds=540), 115))) == 1  # ... so 5 min are reached at 540 s


def test_consecutive_reading_persistence() -> None:
    rs = loads_ruleset(
        '[ruleset]\nid = "t"\nversion = "1"\n[[rule]]\nid = "spo2_low"\ntype = "threshold"\n'
        'title = "Low SpO2"\nobservable = "glucose"\nunit = "mg/dL"\nsource = "test"\n'
        "[rule.tier.warning]\nlt = 70\nfor_readings = 3\n"
    )
    d = Driver(rs)
    cgm_series(d, [60, 60, 75, 60, 60])
    assert d.alerts == []
    assert len(d.feed(glucose(at(25), 60))) == 1


def test_cuff_pulse_and_lost_contact_do_not_feed_heart_rate_rules() -> None:
    d = Driver()
    for m in range(0, 20, 2):
        d.feed(bp(at(m), 120, 80, pulse=170))
        d.feed(hr(at(m, 30), 170, contact=False))
    assert d.alerts == []


def test_control_solution_is_not_a_patient_reading() -> None:
    d = Driver()
    assert d.feed(glucose(at(0), 40, control=True)) == []


def test_backfilled_readings_are_history_not_pages() -> None:
    d = Driver()
    out = d.feed(glucose(at(0), 40), now=at(180))
    assert [a.rule_id for a in out] == ["stale_cgm"]  # no low-glucose page for old data
    assert d.state.streams[P]["cgm"].last_end == at(0)  # still counted as the stream's last data


def test_out_of_order_readings_do_not_move_persistence_backwards() -> None:
    d = Driver()
    d.feed(glucose(at(10), 90))
    assert d.feed(glucose(at(5), 40), now=at(11)) == []


def test_evaluate_never_mutates_its_input_state() -> None:
    d = Driver()
    d.feed(glucose(at(0), 60))
    frozen = state_to_json(d.state)
    evaluate([glucose(at(5), 45)], d.state, at(5), ruleset=DEFAULTS)
    evaluate([], d.state, at(120), ruleset=DEFAULTS)
    assert state_to_json(d.state) == frozen


def test_simulated_flag_follows_the_inputs() -> None:
    d = Driver()
    (real,) = d.feed(glucose(at(0), 60))
    d2 = Driver()
    (sim,) = d2.feed(glucose(at(0), 60, simulated=True))
    assert (real.simulated, sim.simulated) == (False, True)


def test_patients_are_independent() -> None:
    d = Driver()
    d.feed([glucose(at(0), 60, patient="a"), glucose(at(0), 150, patient="b")])
    assert [(a.patient, a.rule_id) for a in d.alerts] == [("a", "glucose_low")]


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate([], EngineState(), datetime(2026, 1, 1), ruleset=DEFAULTS)


# ------------------------------------------------------------------------ blood pressure


def test_bp_needs_a_confirming_reading_within_the_window() -> None:
    d = Driver()
    d.feed(bp(at(0), 185, 100))
    d.feed(bp(at(0, 30), 190, 100))  # too soon (30 s): keeps waiting
    (urgent,) = d.feed(bp(at(2), 183, 104))
    assert events(d.alerts) == [("bp_severe", "info", "open"), ("bp_severe", "urgent", "updated")]
    assert [i.value for i in urgent.inputs] == [185, 100, 183, 104]


def test_bp_readings_too_far_apart_do_not_confirm() -> None:
    d = Driver()
    d.feed(bp(at(0), 185, 100))
    d.tick(at(6))  # window closed: the info item clears
    d.feed(bp(at(7), 186, 100))  # a new first reading, not a confirmation
    assert events(d.alerts) == [
        ("bp_severe", "info", "open"),
        ("bp_severe", "info", "cleared"),
        ("bp_severe", "info", "open"),
    ]
    assert "no confirming re-measurement" in d.alerts[1].explanation


def test_bp_diastolic_alone_counts_and_profile_changes_it() -> None:
    d = Driver()
    d.feed([bp(at(0), 150, 112), bp(at(2), 152, 111)])
    assert events(d.alerts) == [("bp_severe", "info", "open"), ("bp_severe", "urgent", "updated")]
    aha = Driver(DEFAULTS.with_profile("aha"))
    aha.feed([bp(at(0), 150, 112), bp(at(2), 152, 111)])
    assert aha.alerts == []  # AHA sites page from 120 mmHg diastolic
    assert DEFAULTS.with_profile("aha").rule_version.endswith("+aha")


def test_confirmed_bp_clears_after_two_low_readings() -> None:
    d = Driver()
    d.feed([bp(at(0), 185, 100), bp(at(2), 186, 100)])
    d.feed(bp(at(20), 150, 90))
    d.feed(bp(at(22), 165, 90))  # not below 160: resets the clear count
    d.feed(bp(at(24), 150, 90))
    assert [a.state.value for a in d.alerts] == ["open", "updated"]
    (cleared,) = d.feed(bp(at(26), 140, 85))
    assert cleared.state is AlertState.CLEARED and "2 consecutive readings" in cleared.explanation


# ------------------------------------------------------------------------ ECG


def test_af_needs_30_seconds_of_good_strips() -> None:
    d = Driver()
    d.feed(strip(at(seconds=0), 2))
    d.feed(strip(at(seconds=10), 3))  # noisy strip breaks the run
    d.feed(strip(at(seconds=20), 2))
    d.feed(strip(at(seconds=30), 2))
    assert d.alerts == []
    (af,) = d.feed(strip(at(seconds=40), 2))
    assert af.rule_id == "ecg_possible_af" and af.severity.label == "warning"
    assert af.title.startswith("Possible atrial fibrillation — irregular rhythm pattern")
    assert "diagnos" not in af.explanation.replace("not a diagnosis", "")


def test_noisy_strips_raise_nothing() -> None:
    d = Driver()
    for s in range(0, 600, 10):
        d.feed(strip(at(seconds=s), 3))
    assert d.alerts == []


def test_ecg_heart_rate_and_pauses() -> None:
    d = Driver()
    for s in range(0, 310, 10):
        d.feed(strip(at(seconds=s), 5))  # 160 bpm
    assert ("heart_rate_high", "urgent", "open") in events(d.alerts)
    d2 = Driver()
    (pause,) = d2.feed(strip(at(0), 4))
    assert pause.rule_id == "ecg_pause" and "3.4 s" in pause.explanation


def test_no_ecg_analyser_means_no_ecg_rules_but_stream_is_tracked() -> None:
    out, state = evaluate(
        [strip(at(0), 2)] * 1, EngineState(), at(1), ruleset=DEFAULTS, ecg_analyzer=None
    )
    assert out == [] and "ecg" in state.streams[P]


# ------------------------------------------------------------------------ time-driven


def test_stale_stream_and_spot_nudge() -> None:
    d = Driver()
    d.feed(strip(at(0), 1))
    d.feed(bp(at(0), 120, 80))
    d.tick(at(14))
    assert d.alerts == []
    d.tick(at(16))
    d.tick(at(31))
    assert events(d.alerts) == [
        ("stale_ecg", "warning", "open"),
        ("stale_ecg", "urgent", "updated"),
    ]
    assert d.alerts[0].inputs[0].unit == "min"
    d.tick(at(60 * 49))
    assert ("no_reading_bp", "info", "open") in events(d.alerts)


def test_streams_are_watched_only_once_seen() -> None:
    d = Driver()
    d.feed(glucose(at(0), 100, cgm=False))
    d.tick(at(60 * 24))
    assert d.alerts == []


def test_quiet_hours_hold_warning_until_the_window_ends() -> None:
    ctx = {
        P: PatientContext.from_mapping(
            {"timezone": "Asia/Shanghai", "quiet_hours": [{"start": "22:00", "end": "07:00"}]}
        )
    }
    d = Driver(contexts=ctx)
    night = datetime.fromisoformat("2026-11-20T15:00:00+00:00")  # 23:00 in Shanghai
    assert d.feed(glucose(night, 65, cgm=False)) == []
    assert d.tick(night + timedelta(hours=7, minutes=59)) == []  # 06:59 local
    (sent,) = d.tick(night + timedelta(hours=8))  # 07:00 local
    assert sent.state is AlertState.OPEN and "Delayed: quiet hours 22:00–07:00" in sent.explanation
    night_owl = Driver(contexts=ctx)
    (urgent,) = night_owl.feed(glucose(night, 50, cgm=False))  # 23:00: urgent bypasses
    assert urgent.severity.label == "urgent" and "Delayed" not in urgent.explanation
    later = Driver(contexts=ctx)
    assert later.feed(glucose(night, 65, cgm=False)) == []  # warning held ...
    (worse,) = later.feed(glucose(night + timedelta(minutes=10), 50, cgm=False))
    assert "Delayed" not in worse.explanation  # ... the urgent itself was not


def test_repeat_interval_renotifies_while_active() -> None:
    d = Driver()
    d.feed(glucose(at(0), 300, cgm=False))
    d.tick(at(59))
    (again,) = d.tick(at(60))
    assert events(d.alerts) == [
        ("glucose_high", "warning", "open"),
        ("glucose_high", "warning", "updated"),
    ]
    assert again.alert_id == d.alerts[0].alert_id


def test_persistent_high_info_tier() -> None:
    d = Driver()
    for m in range(0, 65, 5):
        d.feed(glucose(at(m), 200))
    assert events(d.alerts) == [("glucose_high", "info", "open")]
    assert d.alerts[0].raised_at == at(60)


def test_disabling_a_rule_closes_its_open_alert() -> None:
    d = Driver()
    d.feed(glucose(at(0), 60))
    off = {
        P: PatientContext.from_mapping(
            {"clinician": {"rules": {"glucose_low": {"enabled": False}}}}
        )
    }
    out, _ = evaluate([glucose(at(5), 55)], d.state, at(5), ruleset=DEFAULTS, overrides=off)
    assert events(out) == [("glucose_low", "warning", "cleared")]


def test_cloud_origin_is_stamped() -> None:
    out, _ = evaluate([glucose(at(0), 60)], EngineState(), at(0), ruleset=DEFAULTS, origin="cloud")
    assert [a.origin for a in out] == ["cloud"]


def test_holds_are_reported_once_for_the_audit_log() -> None:
    from edge_rules.engine import evaluate_detailed

    ctx = {P: PatientContext.from_mapping({"quiet_hours": [{"start": "00:00", "end": "23:59"}]})}
    first = evaluate_detailed(
        [glucose(at(0), 65, cgm=False)], EngineState(), at(0), ruleset=DEFAULTS, overrides=ctx
    )
    assert first.alerts == [] and [h.rule_id for h in first.held] == ["glucose_low"]
    assert "quiet hours 00:00–23:59" in first.held[0].reason
    again = evaluate_detailed([], first.state, at(5), ruleset=DEFAULTS, overrides=ctx)
    assert again.held == []  # same hold, not re-logged every tick


def test_a_broken_override_falls_back_instead_of_silencing_the_patient() -> None:
    from edge_rules.engine import evaluate_detailed

    bad_family = {
        "clinician": {"version": "4", "rules": {"heart_rate_high": {"enabled": False}}},
        "family": {"rules": {"glucose_low": {"enabled": False}}},
    }
    # PatientContext parses the shape; the family rule is rejected when evaluated
    ctx = {P: PatientContext.from_mapping(bad_family)}
    result = evaluate_detailed(
        [glucose(at(0), 60, cgm=False)], EngineState(), at(0), ruleset=DEFAULTS, overrides=ctx
    )
    assert [a.rule_id for a in result.alerts] == ["glucose_low"]
    assert result.alerts[0].rule_version == f"{DEFAULTS.version}+c4"  # clinician layer kept
    assert "may not disable" in result.override_errors[0].error


def test_an_expired_bp_first_reading_is_closed_before_a_late_second_one() -> None:
    d = Driver()
    d.feed(bp(at(0), 185, 100))
    d.feed(bp(at(8), 186, 100))  # no tick in between: the first expired at 5 min
    assert events(d.alerts) == [
        ("bp_severe", "info", "open"),
        ("bp_severe", "info", "cleared"),
        ("bp_severe", "info", "open"),
    ]
    assert d.alerts[0].alert_id != d.alerts[2].alert_id


def test_irregular_pulse_flag_is_mentioned() -> None:
    from vitals.readings import BpStatus

    d = Driver()
    flagged = bp(at(0), 185, 100).model_copy(
        update={"status": frozenset({BpStatus.IRREGULAR_PULSE})}
    )
    (info,) = d.feed(flagged)
    assert "irregular pulse" in info.explanation
    (urgent,) = d.feed(bp(at(2), 185, 100))
    assert "irregular pulse" in urgent.explanation  # the first of the pair was flagged


def test_future_dated_readings_are_rejected_not_trusted() -> None:
    from edge_rules.engine import evaluate_detailed

    d = Driver()
    d.feed(glucose(at(0), 100))
    future = glucose(at(600), 40)  # device clock 10 h ahead
    result = evaluate_detailed([future], d.state, at(1), ruleset=DEFAULTS)
    assert result.alerts == [] and result.rejected[0].msg_id == future.msg_id
    out, _ = evaluate([], result.state, at(31), ruleset=DEFAULTS)
    assert events(out) == [("stale_cgm", "urgent", "open")]  # no-data alarm not held off


def test_a_hold_with_nothing_due_leaves_no_stale_delay_note() -> None:
    ctx = {P: PatientContext.from_mapping({"quiet_hours": [{"start": "12:10", "end": "12:20"}]})}
    d = Driver(contexts=ctx)
    d.feed(glucose(at(0), 65, cgm=False))  # sent at 12:00, before quiet hours
    d.feed(glucose(at(15), 64, cgm=False))  # in quiet hours, but nothing new to send
    (urgent,) = d.feed(glucose(at(30), 50, cgm=False))
    assert "Delayed" not in urgent.explanation


def test_a_flood_of_heart_rate_does_not_let_a_bp_re_upload_count_twice() -> None:
    d = Driver()
    d.feed([bp(at(0), 185, 100), bp(at(2), 186, 100)])  # confirmed
    low = bp(at(10), 140, 85)
    d.feed(low)
    d.feed([hr(at(10, s), 70) for s in range(100)])
    d.feed(low, now=at(12))  # the same cuff reading uploaded again
    assert events(d.alerts)[-1] == ("bp_severe", "urgent", "updated")  # not cleared
    older = bp(at(9), 140, 85)  # an older reading arriving late does not count either
    d.feed(older, now=at(12))
    assert events(d.alerts)[-1] == ("bp_severe", "urgent", "updated")
