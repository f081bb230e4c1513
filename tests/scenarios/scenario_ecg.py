"""The ECG analyser the scenarios run with: the real :func:`edge_rules.ecg.analyze`."""

from __future__ import annotations

from edge_rules.ecg import analyze
from edge_rules.observations import EcgAnalyzer

analyzer: EcgAnalyzer = analyze
