"""ECG analysis for the rule engine: beats, heart rate, pauses, possible AF, signal quality.

Pure numpy (scipy is not imported: the gateway's memory budget), no model weights.
Method and MIT-BIH / CinC 2017 figures: ``docs/ecg.md``.
"""

from .af import af_features, af_probability, is_af
from .analysis import AF_WINDOW_S, PAUSE_THRESHOLD_S, EcgAnalysis, analyze
from .beats import detect_beats
from .quality import Quality

__all__ = [
    "AF_WINDOW_S",
    "PAUSE_THRESHOLD_S",
    "EcgAnalysis",
    "Quality",
    "af_features",
    "af_probability",
    "analyze",
    "detect_beats",
    "is_af",
]
