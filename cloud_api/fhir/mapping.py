"""Stored rows → FHIR R4 resources (plain dicts), per the HL7 Personal Health Device IG.

* the gateway is a **PhgDevice** (type MDC 531981 ``MDC_MOC_VMS_MDS_AHD``), each sensor a
  **PhdDevice** identified by its Bluetooth address (system ``…/sid/eui-48/bluetooth``);
* every Observation carries the MDC code first and the LOINC code second, a UCUM unit,
  category ``vital-signs`` when it is a vital sign plus the PHD category ``phd``,
  ``device`` → PhdDevice and the ``observation-gatewayDevice`` extension → PhgDevice;
* blood pressure is one compound Observation (panel, SYS/DIA/MEAN components, no top-level
  value); the cuff's pulse is its own Observation;
* the identifier is the IG's duplicate-prevention key
  ``device-patient-system-code-PHDtimestamp-duration-supplemental`` so a conditional create
  of a re-exported reading matches the first one;
* the cuff's measurement-status flags are a PhdBitsEnumerationObservation (one component per
  set bit, ``Y``); an ECG strip is a PhdRtsaObservation whose SampledData carries the
  microvolt samples, with ``E`` where frames were lost on the air;
* simulated data carries the security label ``HTEST`` (test health data).
"""

from __future__ import annotations

import hashlib
from typing import Any

from cloud_api.db.access_models import DeviceRow
from cloud_api.db.models import Gateway, Patient, ReadingRow
from vitals.codes import CODES, LOINC_SYSTEM, MDC_SYSTEM, UCUM_SYSTEM, Coding, Observable

PHD = "http://hl7.org/fhir/uv/phd/StructureDefinition/"
GATEWAY_EXT = "http://hl7.org/fhir/StructureDefinition/observation-gatewayDevice"
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
PHD_CATEGORY_SYSTEM = "http://hl7.org/fhir/uv/phd/CodeSystem/PhdObservationCategories"
BLUETOOTH_SYSTEM = "http://hl7.org/fhir/sid/eui-48/bluetooth"
GATEWAY_ID_SYSTEM = "urn:homerpm:gateway"
DEVICE_KEY_SYSTEM = "urn:homerpm:device"
MDC_PHG = 531981
HTEST = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HTEST",
         "display": "test health records"}
VITAL_SIGNS = {Observable.SYSTOLIC, Observable.DIASTOLIC, Observable.BP_PANEL,
               Observable.PULSE_RATE_CUFF, Observable.PULSE_RATE_OXIMETER,
               Observable.HEART_RATE_ECG, Observable.SPO2, Observable.BODY_WEIGHT,
               Observable.BODY_TEMPERATURE}
ASN1_SYSTEM = "http://hl7.org/fhir/uv/phd/CodeSystem/ASN1ToHL7"
YES_NO_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0136"
# MDER bit of each flag in MDC_BLOOD_PRESSURE_MEASUREMENT_STATUS (IEEE 11073-10407; the
# same order as the Bluetooth Blood Pressure Measurement status field).
_BP_STATUS_BITS = {
    "body_movement": (0, "body-movement-detected"),
    "cuff_too_loose": (1, "cuff-fit-too-loose"),
    "irregular_pulse": (2, "irregular-pulse-detected"),
    "pulse_rate_high": (3, "pulse-rate-exceeds-upper-limit"),
    "pulse_rate_low": (4, "pulse-rate-less-than-lower-limit"),
    "improper_position": (5, "improper-measurement-position"),
}
_PROFILES = {Observable.BP_PANEL: "PhdCompoundNumericObservation",
             Observable.BP_STATUS: "PhdBitsEnumerationObservation",
             Observable.ECG_WAVEFORM: "PhdRtsaObservation"}
_GLUCOSE_BY_SAMPLE = {
    "capillary_whole_blood": Observable.GLUCOSE_CAPILLARY_WHOLE_BLOOD,
    "capillary_plasma": Observable.GLUCOSE_CAPILLARY_PLASMA,
    "interstitial_fluid": Observable.GLUCOSE_CGM,
    "venous_plasma": Observable.GLUCOSE_PLASMA_UNDETERMINED,
    "arterial_plasma": Observable.GLUCOSE_PLASMA_UNDETERMINED,
    "undetermined_plasma": Observable.GLUCOSE_PLASMA_UNDETERMINED,
}


def device_resource_id(device_key: str) -> str:
    return "phd-" + hashlib.sha256(device_key.encode()).hexdigest()[:16]


def gateway_resource_id(gateway_id: str) -> str:
    return f"phg-{gateway_id}".replace("_", "-")


def code(observable: Observable, molar: bool = False) -> dict[str, Any]:
    c = CODES[observable]
    codings = []
    if c.mdc is not None:
        codings.append({"system": MDC_SYSTEM, "code": str(c.mdc), "display": c.mdc_ref})
    loinc = c.loinc_molar if molar else c.loinc
    if loinc is not None:
        codings.append({"system": LOINC_SYSTEM, "code": loinc, "display": c.display})
    return {"coding": codings, "text": c.display}


def quantity(value: float, ucum: str) -> dict[str, Any]:
    return {"value": round(value, 3), "unit": ucum, "system": UCUM_SYSTEM, "code": ucum}


def patient(p: Patient) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Patient", "id": p.id.replace("_", "-"),
        "meta": {"profile": [PHD + "PhdPatient"]},
        "identifier": [{"system": "urn:homerpm:patient", "value": p.id}],
        "name": [{"text": p.display_name}],
    }
    if p.mrn:
        res["identifier"].append({"type": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
            "system": f"urn:homerpm:mrn:{p.org_id}", "value": p.mrn})
    return res


def gateway_device(g: Gateway) -> dict[str, Any]:
    return {
        "resourceType": "Device", "id": gateway_resource_id(g.id),
        "meta": {"profile": [PHD + "PhgDevice"]},
        "identifier": [{"system": GATEWAY_ID_SYSTEM, "value": g.id}],
        "type": {"coding": [{"system": MDC_SYSTEM, "code": str(MDC_PHG),
                             "display": "MDC_MOC_VMS_MDS_AHD"}]},
        "deviceName": [{"name": g.label or g.id, "type": "user-friendly-name"}],
    }


def sensor_device(
    device_key: str, device: dict[str, Any], row: DeviceRow | None = None
) -> dict[str, Any]:
    """A PhdDevice from the reading's device block (and the registered device, if any)."""
    address = device.get("address") or (row.address if row else None)
    identifiers = []
    if address:
        identifiers.append({"system": BLUETOOTH_SYSTEM,
                            "value": str(address).upper().replace(":", "-")})
    identifiers.append({"system": DEVICE_KEY_SYSTEM, "value": device_key})
    res: dict[str, Any] = {
        "resourceType": "Device", "id": device_resource_id(device_key),
        "meta": {"profile": [PHD + "PhdDevice"]},
        "identifier": identifiers,
        "manufacturer": device.get("make") or (row.make if row else "unknown"),
        "modelNumber": device.get("model") or (row.model if row else "unknown"),
    }
    serial = device.get("serial") or (row.serial if row else None)
    if serial:
        res["serialNumber"] = serial
    return res


def _category(observable: Observable) -> list[dict[str, Any]]:
    cats = []
    if observable in VITAL_SIGNS:
        cats.append({"coding": [{"system": CATEGORY_SYSTEM, "code": "vital-signs",
                                 "display": "Vital Signs"}]})
    cats.append({"coding": [{"system": PHD_CATEGORY_SYSTEM, "code": "phd",
                             "display": "PHD generated"}]})
    return cats


def _dedup_identifier(row: ReadingRow, coding: Coding, molar: bool) -> dict[str, Any]:
    body = row.body
    stamp = body.get("device_time") or row.measured_at.strftime("%Y%m%dT%H%M%S")
    type_code = str(coding.mdc) if coding.mdc is not None else (
        coding.loinc_molar if molar else coding.loinc)
    system = MDC_SYSTEM if coding.mdc is not None else LOINC_SYSTEM
    value = "-".join([row.device_key, row.patient_id, system, str(type_code), str(stamp), "", ""])
    return {"system": PHD + "PhdBaseObservation", "value": value}


def _observation(row: ReadingRow, observable: Observable, suffix: str = "",
                 molar: bool = False) -> dict[str, Any]:
    coding = CODES[observable]
    profile = _PROFILES.get(observable, "PhdNumericObservation")
    res: dict[str, Any] = {
        "resourceType": "Observation", "id": row.msg_id.lower() + suffix,
        "meta": {"profile": [PHD + profile]},
        "identifier": [_dedup_identifier(row, coding, molar)],
        "status": "final",
        "category": _category(observable),
        "code": code(observable, molar),
        "subject": {"reference": f"Patient/{row.patient_id.replace('_', '-')}"},
        "effectiveDateTime": row.measured_at.isoformat().replace("+00:00", "Z"),
        "device": {"reference": f"Device/{device_resource_id(row.device_key)}"},
        "extension": [{"url": GATEWAY_EXT, "valueReference": {
            "reference": f"Device/{gateway_resource_id(row.gateway_id)}"}}],
    }
    if row.simulated:
        res["meta"]["security"] = [HTEST]
    return res


def observations(row: ReadingRow) -> list[dict[str, Any]]:
    """The Observations for one stored reading ([] for kinds we do not export)."""
    b = row.body
    out: list[dict[str, Any]] = []
    if row.kind == "blood_pressure":
        panel = _observation(row, Observable.BP_PANEL)
        comps = [(Observable.SYSTOLIC, b["systolic"]), (Observable.DIASTOLIC, b["diastolic"])]
        if b.get("mean_arterial") is not None:
            comps.append((Observable.MEAN_ARTERIAL, b["mean_arterial"]))
        panel["component"] = [
            {"code": code(o), "valueQuantity": quantity(v, CODES[o].ucum or "mm[Hg]")}
            for o, v in comps
        ]
        out.append(panel)
        if b.get("pulse") is not None:
            out.append(_numeric(row, Observable.PULSE_RATE_CUFF, b["pulse"], "-pulse"))
        if b.get("status"):
            out.append(_bp_status(row, b["status"]))
    elif row.kind == "glucose":
        observable = _GLUCOSE_BY_SAMPLE.get(str(b.get("sample_type")),
                                            Observable.GLUCOSE_BLOOD_GENERIC)
        molar = b.get("unit_received") == "mmol/L"
        value = b["value_received"] if molar else b["mg_dl"]
        obs = _observation(row, observable, molar=molar)
        c = CODES[observable]
        obs["valueQuantity"] = quantity(value, (c.ucum_molar if molar else c.ucum) or "mg/dL")
        out.append(obs)
    elif row.kind == "heart_rate":
        out.append(_numeric(row, Observable.HEART_RATE_ECG, b["bpm"]))
    elif row.kind == "spo2":
        out.append(_numeric(row, Observable.SPO2, b["spo2_pct"]))
        if b.get("pulse") is not None:
            out.append(_numeric(row, Observable.PULSE_RATE_OXIMETER, b["pulse"], "-pulse"))
    elif row.kind == "body_weight":
        out.append(_numeric(row, Observable.BODY_WEIGHT, b["kg"]))
    elif row.kind == "ecg":
        out.append(_ecg(row))
    return out


def _bp_status(row: ReadingRow, flags: list[str]) -> dict[str, Any]:
    """Only the bits the cuff set: whether it supports the others is not stored."""
    obs = _observation(row, Observable.BP_STATUS, "-status")
    mdc = CODES[Observable.BP_STATUS].mdc
    bits = sorted(_BP_STATUS_BITS[f] for f in flags if f in _BP_STATUS_BITS)
    obs["component"] = [
        {"code": {"coding": [{"system": ASN1_SYSTEM, "code": f"{mdc}.{bit}", "display": name}]},
         "valueCodeableConcept": {"coding": [{"system": YES_NO_SYSTEM, "code": "Y",
                                              "display": "Yes"}]}}
        for bit, name in bits
    ]
    return obs


def _ecg(row: ReadingRow) -> dict[str, Any]:
    """Samples in µV at the strap's rate; each sample lost on the air is an ``E`` so the
    samples after a gap keep their true time."""
    b = row.body
    data = [str(v) for v in b["samples_uv"]]
    for first, count in sorted(b.get("gaps") or (), reverse=True):
        data[first:first] = ["E"] * count
    obs = _observation(row, Observable.ECG_WAVEFORM)
    obs["valueSampledData"] = {
        "origin": quantity(0, "uV"), "period": round(1000.0 / b["fs_hz"], 6), "factor": 1,
        "dimensions": 1, "data": " ".join(data),
    }
    if b.get("lead"):
        obs["code"]["text"] = f"ECG, lead {b['lead']} (as the device labels it)"
    return obs


def _numeric(
    row: ReadingRow, observable: Observable, value: float, suffix: str = ""
) -> dict[str, Any]:
    obs = _observation(row, observable, suffix)
    obs["valueQuantity"] = quantity(value, CODES[observable].ucum or "1")
    return obs
