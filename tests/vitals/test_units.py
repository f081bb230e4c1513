import math

from hypothesis import given
from hypothesis import strategies as st

from vitals import units
from vitals.units import GlucoseUnit, MassUnit, PressureUnit

finite = st.floats(min_value=0.0, max_value=1e4, allow_nan=False)


def test_standard_atmosphere_is_760_mmhg() -> None:
    assert math.isclose(units.kpa_to_mmhg(101.325), 760.0)


def test_glucose_hypo_thresholds_match_ada_pairs() -> None:
    # ADA pairs its mg/dL and mmol/L cut-points: 70 ≈ 3.9, 54 ≈ 3.0, 180 ≈ 10.0.
    assert round(units.mgdl_to_mmoll(70), 1) == 3.9
    assert round(units.mgdl_to_mmoll(54), 1) == 3.0
    assert round(units.mgdl_to_mmoll(180), 1) == 10.0


def test_pound_is_exact() -> None:
    assert units.lb_to_kg(1) == 0.45359237


@given(finite)
def test_pressure_round_trip(value: float) -> None:
    for unit in PressureUnit:
        assert math.isclose(units.from_mmhg(units.to_mmhg(value, unit), unit), value, abs_tol=1e-9)


@given(finite)
def test_glucose_round_trip(value: float) -> None:
    for unit in GlucoseUnit:
        assert math.isclose(units.from_mgdl(units.to_mgdl(value, unit), unit), value, abs_tol=1e-9)


@given(finite)
def test_mass_round_trip(value: float) -> None:
    assert math.isclose(units.kg_to_lb(units.to_kg(value, MassUnit.LB)), value, abs_tol=1e-9)
