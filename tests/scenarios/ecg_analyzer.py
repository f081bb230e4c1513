"""The ECG analyser the scenarios run with."""

from __future__ import annotations

from edge_rules.observations import default_ecg_analyzer

from .fake_ecg import fake_analyze

analyzer = default_ecg_analyzer() or fake_analyze
