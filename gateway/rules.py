"""The edge-rule engine as the pipeline's :class:`~gateway.pipeline.RuleEvaluator`.

``edge_rules.engine.evaluate`` is a pure function of (readings, state, now); this class
holds the state between calls and hands a JSON snapshot of it to the pipeline, which
writes it in the SAME outbox transaction as the reading and its alerts. A restart
restores the snapshot, so an open alert is neither re-fired nor forgotten, and a pending
BP confirmation, a snooze or a stale-data clock carries on where it was.

The rule set and the per-patient contexts (timezone, quiet hours, clinician/family
overrides) can be swapped at runtime by the downlink config (:meth:`use`); the state is
kept across the swap.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from edge_rules.config import RulesConfig, parse_rules_config
from edge_rules.engine import evaluate_detailed
from edge_rules.observations import EcgAnalyzer, default_ecg_analyzer
from edge_rules.ruleset import RuleSet, load_ruleset
from edge_rules.state import EngineState, StateFormatError, state_from_json, state_to_json
from vitals.alerts import Alert
from vitals.readings import Reading

log = logging.getLogger(__name__)


def load_rules_config(
    rules_path: str | None, profile: str | None, patients: Mapping[str, Any]
) -> RulesConfig:
    """The rules from the gateway TOML (``[rules]``); raises ``RuleSetError`` naming the field."""
    base: RuleSet = load_ruleset(rules_path) if rules_path else load_ruleset()
    body: dict[str, Any] = {"patients": dict(patients)}
    if profile:
        body["profile"] = profile
    return parse_rules_config(body, base=base)


def _lazy_analyzer(signal: Any, fs: float) -> Any:
    return default_ecg_analyzer()(signal, fs)


class EdgeRules:
    """Stateful wrapper over the pure engine; one state for all of this home's patients."""

    def __init__(
        self,
        config: RulesConfig,
        *,
        state_json: str | None = None,
        ecg_analyzer: EcgAnalyzer | None = None,
        preload_ecg: bool = True,
    ) -> None:
        self.config = config
        # Pay the numpy/scipy import now, not on the first ECG strip (~1 s CPU on a Pi 4);
        # a home without an ECG device skips it and keeps ~20 MB of RSS.
        self.analyzer: EcgAnalyzer = ecg_analyzer or (
            default_ecg_analyzer() if preload_ecg else _lazy_analyzer)
        self.state = EngineState()
        if state_json:
            try:
                self.state = state_from_json(state_json)
            except StateFormatError as exc:
                # Unreadable state must not stop alerting: start afresh, say so loudly.
                log.error("rule engine state not restored (%s); starting with an empty state", exc)
        self._saved = state_to_json(self.state)
        self.held_total = 0

    def use(self, config: RulesConfig) -> None:
        """Swap rule set / patient contexts (already validated); the state carries over."""
        self.config = config

    def evaluate(self, reading: Reading, now: datetime) -> list[Alert]:
        return self._run([reading], now)

    def tick(self, now: datetime) -> list[Alert]:
        """No-reading evaluation: stale data, confirmation windows, snooze/quiet-hour ends."""
        return self._run([], now)

    def _run(self, readings: list[Reading], now: datetime) -> list[Alert]:
        result = evaluate_detailed(
            readings, self.state, now, ruleset=self.config.ruleset,
            overrides=self.config.patients, ecg_analyzer=self.analyzer, origin="gateway",
        )
        self.state = result.state
        for held in result.held:
            self.held_total += 1
            log.info("alert held: %s %s (%s) for %s", held.rule_id, held.severity.label,
                     held.reason, held.patient)
        for problem in result.override_errors:
            log.error("override problem: %s", problem)
        for rejected in result.rejected:
            log.warning("reading not evaluated (device clock ahead?): %s", rejected)
        return result.alerts

    def snapshot(self) -> str | None:
        """The state as JSON if it changed since the last snapshot, else None."""
        text = state_to_json(self.state)
        if text == self._saved:
            return None
        self._saved = text
        return text

    def open_alerts(self) -> int:
        return len(self.state.open_alerts())
