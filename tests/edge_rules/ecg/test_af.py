import numpy as np

from edge_rules.ecg import af_features, is_af


def test_irregularly_irregular_rr_is_af() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        assert is_af(rng.uniform(0.4, 1.1, 40))


def test_regular_sinus_rhythm_is_not_af() -> None:
    rng = np.random.default_rng(4)
    rr = 0.85 + rng.normal(0, 0.015, 40)
    assert not is_af(rr)


def test_sinus_arrhythmia_is_not_af() -> None:
    # smooth respiratory modulation at 0.25 Hz, ±5 % (RMSSD ≈ 40 ms, typical of healthy adults)
    t = np.cumsum(np.full(40, 0.9))
    assert not is_af(0.9 * (1 + 0.05 * np.sin(2 * np.pi * 0.25 * t)))


def test_regular_rhythm_with_a_few_ectopic_beats_is_not_af() -> None:
    rng = np.random.default_rng(5)
    rr = 0.8 + rng.normal(0, 0.01, 40)
    for i in (6, 17, 29):  # premature beat + compensatory pause
        rr[i], rr[i + 1] = 0.5, 1.1
    assert not is_af(rr)
    assert is_af(rng.uniform(0.4, 1.1, 40))  # the same length is still judged when irregular


def test_ventricular_bigeminy_is_not_af() -> None:
    rr = np.tile([0.55, 1.05], 20) + np.random.default_rng(6).normal(0, 0.01, 40)
    assert not is_af(rr)


def test_too_few_intervals_gives_no_decision() -> None:
    assert af_features([0.5, 0.9, 0.6]) is None
    assert not is_af([0.5, 0.9, 0.6, 1.0])
    assert not is_af([])


def test_features_reflect_irregularity() -> None:
    regular = af_features(np.full(30, 0.8) + np.random.default_rng(7).normal(0, 0.005, 30))
    irregular = af_features(np.random.default_rng(8).uniform(0.4, 1.1, 30))
    assert regular is not None and irregular is not None
    assert irregular.nrmssd > 5 * regular.nrmssd
    assert irregular.prr31 > regular.prr31
