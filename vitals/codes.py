"""Clinical code table: LOINC, IEEE 11073-10101 (MDC) and UCUM for every observation we emit.

Source: shared research clinical.md §3.3, from the HL7 Personal Health Device IG
(hl7.fhir.uv.phd) examples and nomenclature pages. MDC codes are the 32-bit decimal
form (partition × 65536 + term code). Verify against the LOINC and MDC browsers before
a regulated release; the table is data so a site can extend it (e.g. WS/T local codes).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Observable(StrEnum):
    """Every coded quantity HomeRPM produces."""

    BP_PANEL = "bp_panel"
    SYSTOLIC = "systolic"
    DIASTOLIC = "diastolic"
    MEAN_ARTERIAL = "mean_arterial"
    PULSE_RATE_CUFF = "pulse_rate_cuff"
    PULSE_RATE_OXIMETER = "pulse_rate_oximeter"
    HEART_RATE_ECG = "heart_rate_ecg"
    SPO2 = "spo2"
    BODY_TEMPERATURE = "body_temperature"
    BODY_WEIGHT = "body_weight"
    GLUCOSE_CAPILLARY_WHOLE_BLOOD = "glucose_capillary_whole_blood"
    GLUCOSE_CAPILLARY_PLASMA = "glucose_capillary_plasma"
    GLUCOSE_PLASMA_UNDETERMINED = "glucose_plasma_undetermined"
    GLUCOSE_BLOOD_GENERIC = "glucose_blood_generic"
    GLUCOSE_CGM = "glucose_cgm"
    QTC = "qtc"
    BP_STATUS = "bp_status"
    ECG_WAVEFORM = "ecg_waveform"


@dataclass(frozen=True, slots=True)
class Coding:
    """One observable's codes. ``loinc_molar`` is set for glucose (mmol/L)."""

    loinc: str | None
    mdc: int | None
    mdc_ref: str | None
    ucum: str | None
    display: str
    loinc_molar: str | None = None
    ucum_molar: str | None = None


LOINC_SYSTEM = "http://loinc.org"
MDC_SYSTEM = "urn:iso:std:iso:11073:10101"
UCUM_SYSTEM = "http://unitsofmeasure.org"

CODES: dict[Observable, Coding] = {
    Observable.BP_PANEL: Coding(
        "85354-9", 150020, "MDC_PRESS_BLD_NONINV", None, "Blood pressure panel"
    ),
    Observable.SYSTOLIC: Coding(
        "8480-6", 150021, "MDC_PRESS_BLD_NONINV_SYS", "mm[Hg]", "Systolic blood pressure"
    ),
    Observable.DIASTOLIC: Coding(
        "8462-4", 150022, "MDC_PRESS_BLD_NONINV_DIA", "mm[Hg]", "Diastolic blood pressure"
    ),
    # The PHD IG uses no vital-signs LOINC for mean arterial pressure.
    Observable.MEAN_ARTERIAL: Coding(
        None, 150023, "MDC_PRESS_BLD_NONINV_MEAN", "mm[Hg]", "Mean blood pressure"
    ),
    Observable.PULSE_RATE_CUFF: Coding(
        "8867-4", 149546, "MDC_PULS_RATE_NON_INV", "/min", "Pulse rate"
    ),
    Observable.PULSE_RATE_OXIMETER: Coding(
        "8867-4", 149530, "MDC_PULS_OXIM_PULS_RATE", "/min", "Pulse rate"
    ),
    Observable.HEART_RATE_ECG: Coding("8867-4", 147842, "MDC_ECG_HEART_RATE", "/min", "Heart rate"),
    Observable.SPO2: Coding(
        "2708-6", 150456, "MDC_PULS_OXIM_SAT_O2", "%", "Oxygen saturation in arterial blood"
    ),
    Observable.BODY_TEMPERATURE: Coding(
        "8310-5", 150364, "MDC_TEMP_BODY", "Cel", "Body temperature"
    ),
    Observable.BODY_WEIGHT: Coding("29463-7", 188736, "MDC_MASS_BODY_ACTUAL", "kg", "Body weight"),
    Observable.GLUCOSE_CAPILLARY_WHOLE_BLOOD: Coding(
        "41653-7",
        160184,
        "MDC_CONC_GLU_CAPILLARY_WHOLEBLOOD",
        "mg/dL",
        "Glucose in capillary blood by glucometer",
        "14743-9",
        "mmol/L",
    ),
    Observable.GLUCOSE_CAPILLARY_PLASMA: Coding(
        "41653-7",
        160188,
        "MDC_CONC_GLU_CAPILLARY_PLASMA",
        "mg/dL",
        "Glucose in capillary plasma by glucometer",
        "14743-9",
        "mmol/L",
    ),
    Observable.GLUCOSE_PLASMA_UNDETERMINED: Coding(
        "2345-7",
        160368,
        "MDC_CONC_GLU_UNDETERMINED_PLASMA",
        "mg/dL",
        "Glucose in serum or plasma",
        "14749-6",
        "mmol/L",
    ),
    Observable.GLUCOSE_BLOOD_GENERIC: Coding(
        "2339-0", None, None, "mg/dL", "Glucose in blood", "15074-8", "mmol/L"
    ),
    Observable.GLUCOSE_CGM: Coding(
        "99504-3", None, None, "mg/dL", "Glucose in interstitial fluid", "105272-9", "mmol/L"
    ),
    Observable.QTC: Coding("8636-3", None, None, "ms", "QT interval corrected"),
    # The cuff's measurement-status bits (PHD IG PhdBitsEnumerationObservation; no LOINC).
    Observable.BP_STATUS: Coding(
        None, 8410608, "MDC_BLOOD_PRESSURE_MEASUREMENT_STATUS", None,
        "Blood pressure measurement status",
    ),
    # ECG samples of an unspecified lead (a chest strap's lead is not a standard limb lead).
    Observable.ECG_WAVEFORM: Coding(
        None, 131328, "MDC_ECG_ELEC_POTL", "uV", "ECG electric potential"
    ),
}

#: UCUM codes for the units HomeRPM shows (display form → UCUM code).
UCUM: dict[str, str] = {
    "mmHg": "mm[Hg]",
    "kPa": "kPa",
    "mg/dL": "mg/dL",
    "mmol/L": "mmol/L",
    "bpm": "/min",
    "%": "%",
    "kg": "kg",
    "lb": "[lb_av]",
    "ms": "ms",
    "s": "s",
    "uV": "uV",
    "mV": "mV",
    "Cel": "Cel",
}

# MDC measurement-status bits for BP (PhdBITsEnumeration, MDC_BLOOD_PRESSURE_MEASUREMENT_STATUS).
MDC_BP_MEASUREMENT_STATUS = 8410608
MDC_CTXT_GLU_MEAL = 8417864
