"""FHIR export: structurally valid R4(B) resources plus our PHD profile checks."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.device import Device
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient

from cloud_api.fhir.mapping import BLUETOOTH_SYSTEM, GATEWAY_EXT, PHD
from cloud_api.ingest.batch import IngestBatch
from cloud_api.ingest.sinks import SqlStore
from tests.cloud_api.factories import DEVICE, T0, bp
from tests.cloud_api.world import World
from vitals.codes import LOINC_SYSTEM, MDC_SYSTEM, UCUM_SYSTEM
from vitals.ids import new_msg_id
from vitals.readings import (
    BpStatus,
    DeviceRef,
    EcgStrip,
    Glucose,
    GlucoseSampleType,
    GlucoseUnit,
)

MODELS = {"Observation": Observation, "Device": Device, "Patient": Patient}
METER = DeviceRef(make="Roche", model="Guide", address="c4:7c:8d:6a:10:22")
STRAP = DeviceRef(make="Polar", model="H10", serial="SIM-H10")


def _store(world: World) -> None:
    glucose = Glucose(msg_id=new_msg_id(T0 + timedelta(minutes=5)), patient="demo-patient-1",
                      device=METER, measured_at=T0 + timedelta(minutes=5), simulated=True,
                      mg_dl=99.1, value_received=5.5, unit_received=GlucoseUnit.MMOL_L,
                      sample_type=GlucoseSampleType.CAPILLARY_PLASMA)
    moved = bp(minutes=3, systolic=162).model_copy(
        update={"status": frozenset({BpStatus.BODY_MOVEMENT, BpStatus.IRREGULAR_PULSE})})
    strip = EcgStrip(msg_id=new_msg_id(T0 + timedelta(minutes=7)), patient="demo-patient-1",
                     device=STRAP, measured_at=T0 + timedelta(minutes=7), simulated=True,
                     fs_hz=130.0, start=T0 + timedelta(minutes=7),
                     samples_uv=(10, 20, 30, 40, 50), gaps=((2, 3),))
    readings = (bp(minutes=0, systolic=131), bp(minutes=1, systolic=129), moved, glucose, strip)
    asyncio.run(SqlStore(world.engine).write(IngestBatch(T0, "gw-demo-1", readings=readings)))


def _codes(concept: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["system"], c["code"]) for c in concept["coding"]]


def _check_observation(obs: dict[str, Any]) -> None:
    cats = [c for cat in obs["category"] for c in _codes(cat)]
    assert cats[-1][1] == "phd"
    codes = _codes(obs["code"])
    assert codes[0][0] in (MDC_SYSTEM, LOINC_SYSTEM)
    if codes[0][0] == MDC_SYSTEM and len(codes) > 1:
        assert codes[1][0] == LOINC_SYSTEM
    assert obs["device"]["reference"].startswith("Device/phd-")
    ext = {e["url"]: e for e in obs["extension"]}
    assert ext[GATEWAY_EXT]["valueReference"]["reference"] == "Device/phg-gw-demo-1"
    assert obs["identifier"][0]["system"] == PHD + "PhdBaseObservation"
    assert obs["meta"]["security"][0]["code"] == "HTEST"  # simulated data says so
    if "valueQuantity" in obs:
        quantities = [obs["valueQuantity"]]
    elif "valueSampledData" in obs:
        quantities = [obs["valueSampledData"]["origin"]]
    else:
        quantities = [c["valueQuantity"] for c in obs["component"] if "valueQuantity" in c]
    for q in quantities:
        assert q["system"] == UCUM_SYSTEM and q["code"] == q["unit"]


def test_everything_bundle_is_valid_and_follows_the_phd_ig(api: TestClient, world: World) -> None:
    _store(world)
    r = api.get("/fhir/Patient/demo-patient-1/$everything", headers=world.headers("demo"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+json")
    bundle = r.json()
    Bundle.model_validate(bundle)
    assert bundle["type"] == "searchset"
    resources = [e["resource"] for e in bundle["entry"]]
    for res in resources:
        MODELS[res["resourceType"]].model_validate(res)
    by_profile: dict[str, list[dict[str, Any]]] = {}
    for res in resources:
        by_profile.setdefault(res["meta"]["profile"][0].removeprefix(PHD), []).append(res)
    (phg,) = by_profile["PhgDevice"]
    assert _codes(phg["type"]) == [(MDC_SYSTEM, "531981")]
    meters = [d for d in by_profile["PhdDevice"] if d["manufacturer"] == "Roche"]
    assert meters[0]["identifier"][0] == {"system": BLUETOOTH_SYSTEM,
                                          "value": "C4-7C-8D-6A-10-22"}
    panels = by_profile["PhdCompoundNumericObservation"]
    assert len(panels) == 3
    panel = panels[0]
    assert _codes(panel["code"]) == [(MDC_SYSTEM, "150020"), (LOINC_SYSTEM, "85354-9")]
    assert "valueQuantity" not in panel
    assert [_codes(c["code"])[1][1] for c in panel["component"]] == ["8480-6", "8462-4"]
    assert panel["component"][0]["valueQuantity"]["code"] == "mm[Hg]"
    assert ("http://terminology.hl7.org/CodeSystem/observation-category", "vital-signs") in [
        c for cat in panel["category"] for c in _codes(cat)]
    numerics = by_profile["PhdNumericObservation"]
    pulses = [o for o in numerics if _codes(o["code"])[0][1] == "149546"]
    assert len(pulses) == 3 and pulses[0]["valueQuantity"]["code"] == "/min"
    (glucose,) = [o for o in numerics if _codes(o["code"])[0][1] == "160188"]
    assert _codes(glucose["code"])[1] == (LOINC_SYSTEM, "14743-9")  # molar LOINC, unit kept
    assert glucose["valueQuantity"]["code"] == "mmol/L"
    # The cuff's status bits: one component per set flag (MDER bit numbers), nothing else.
    (status,) = by_profile["PhdBitsEnumerationObservation"]
    assert _codes(status["code"]) == [(MDC_SYSTEM, "8410608")]
    assert [(_codes(c["code"])[0][1], _codes(c["valueCodeableConcept"])[0][1])
            for c in status["component"]] == [("8410608.0", "Y"), ("8410608.2", "Y")]
    assert "vital-signs" not in str(status["category"])
    # The ECG strip: SampledData in µV at 130 Hz, the three lost samples marked "E".
    (ecg,) = by_profile["PhdRtsaObservation"]
    assert _codes(ecg["code"]) == [(MDC_SYSTEM, "131328")]
    sampled = ecg["valueSampledData"]
    assert sampled["data"] == "10 20 E E E 30 40 50"
    assert sampled["period"] == round(1000 / 130, 6) and sampled["origin"]["code"] == "uV"
    observations = panels + numerics + [status, ecg]
    for obs in observations:
        _check_observation(obs)
    # Duplicate-prevention identifiers are unique per observation and stable across exports.
    ids = [o["identifier"][0]["value"] for o in observations]
    assert len(set(ids)) == len(ids)
    again = api.get("/fhir/Patient/demo-patient-1/$everything", headers=world.headers("demo"))
    assert sorted(ids) == sorted(e["resource"]["identifier"][0]["value"]
                                 for e in again.json()["entry"]
                                 if e["resource"]["resourceType"] == "Observation")
    assert DEVICE.serial in {d.get("serialNumber") for d in by_profile["PhdDevice"]}


def test_observation_search_by_date_and_access(api: TestClient, world: World) -> None:
    _store(world)
    demo = world.headers("demo")
    params = {"patient": "demo-patient-1", "date": ["ge2026-11-25T08:00:30Z",
                                                    "le2026-11-25T08:02:00Z"]}
    r = api.get("/fhir/Observation", headers=demo, params=params)
    assert r.status_code == 200
    bundle = r.json()
    Bundle.model_validate(bundle)
    times = {e["resource"]["effectiveDateTime"] for e in bundle["entry"]}
    assert times == {"2026-11-25T08:01:00Z"}
    r = api.get("/fhir/Observation", headers=demo, params={"patient": "demo-patient-1",
                                                            "date": "eq2026-11-25"})
    assert r.status_code == 422
    r = api.get("/fhir/Observation", headers=world.headers("otherdoc"),
                params={"patient": "demo-patient-1"})
    assert r.status_code == 404
