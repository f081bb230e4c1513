"""Unit conversions used across HomeRPM.

Canonical units inside the system: mmHg for pressures, mg/dL for glucose, kg for
mass, bpm for rates, seconds for RR intervals. The value and unit *as received*
are always kept next to the canonical value, so nothing is silently converted.
"""

from __future__ import annotations

from enum import StrEnum

#: 1 kPa in mmHg (101.325 kPa = 760 mmHg by definition of the standard atmosphere).
MMHG_PER_KPA = 760.0 / 101.325
#: mg/dL per mmol/L of glucose (molar mass 180.156 g/mol); Nightscout uses 18.01559.
MGDL_PER_MMOLL = 18.0156
#: kg per avoirdupois pound (exact by definition).
KG_PER_LB = 0.45359237


class PressureUnit(StrEnum):
    MMHG = "mmHg"
    KPA = "kPa"


class GlucoseUnit(StrEnum):
    MG_DL = "mg/dL"
    MMOL_L = "mmol/L"


class MassUnit(StrEnum):
    KG = "kg"
    LB = "lb"


def kpa_to_mmhg(kpa: float) -> float:
    return kpa * MMHG_PER_KPA


def mmhg_to_kpa(mmhg: float) -> float:
    return mmhg / MMHG_PER_KPA


def mmoll_to_mgdl(mmol_l: float) -> float:
    return mmol_l * MGDL_PER_MMOLL


def mgdl_to_mmoll(mg_dl: float) -> float:
    return mg_dl / MGDL_PER_MMOLL


def lb_to_kg(lb: float) -> float:
    return lb * KG_PER_LB


def kg_to_lb(kg: float) -> float:
    return kg / KG_PER_LB


def to_mmhg(value: float, unit: PressureUnit) -> float:
    return value if unit is PressureUnit.MMHG else kpa_to_mmhg(value)


def from_mmhg(mmhg: float, unit: PressureUnit) -> float:
    return mmhg if unit is PressureUnit.MMHG else mmhg_to_kpa(mmhg)


def to_mgdl(value: float, unit: GlucoseUnit) -> float:
    return value if unit is GlucoseUnit.MG_DL else mmoll_to_mgdl(value)


def from_mgdl(mg_dl: float, unit: GlucoseUnit) -> float:
    return mg_dl if unit is GlucoseUnit.MG_DL else mgdl_to_mmoll(mg_dl)


def to_kg(value: float, unit: MassUnit) -> float:
    return value if unit is MassUnit.KG else lb_to_kg(value)
