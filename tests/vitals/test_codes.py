from vitals.codes import CODES, UCUM, Observable


def test_every_observable_has_codes() -> None:
    assert set(CODES) == set(Observable)


def test_bp_components_match_phd_ig() -> None:
    assert CODES[Observable.BP_PANEL].loinc == "85354-9"
    assert CODES[Observable.SYSTOLIC].mdc == 150021
    assert CODES[Observable.DIASTOLIC].loinc == "8462-4"
    assert CODES[Observable.SYSTOLIC].ucum == "mm[Hg]"


def test_mdc_codes_are_partition_times_65536_plus_term() -> None:
    # Pulse rate from a cuff: partition 2 (SCADA), term 18474.
    assert CODES[Observable.PULSE_RATE_CUFF].mdc == 2 * 65536 + 18474
    for coding in CODES.values():
        if coding.mdc is not None:
            assert coding.mdc > 65536


def test_glucose_codings_carry_molar_alternative() -> None:
    glucose = [o for o in Observable if o.value.startswith("glucose")]
    assert glucose
    for obs in glucose:
        assert CODES[obs].ucum == "mg/dL"
        assert CODES[obs].loinc_molar and CODES[obs].ucum_molar == "mmol/L"


def test_ucum_units() -> None:
    assert UCUM["mmHg"] == "mm[Hg]"
    assert UCUM["bpm"] == "/min"
