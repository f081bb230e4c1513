import pytest

from device_drivers.quirks import NO_QUIRKS, builtin_profiles, parse_profiles, quirks_for


def test_builtin_profiles_parse_and_cite_sources() -> None:
    profiles = builtin_profiles()
    assert profiles, "quirks.toml ships at least the Beurer BM85"
    assert all(p.quirks.source for p in profiles)


@pytest.mark.parametrize(
    ("manufacturer", "model"),
    [("Beurer", "BM85"), ("Beurer GmbH", "BM 85"), ("BEURER", "bm-85")],
)
def test_bm85_selected_by_device_information(manufacturer: str, model: str) -> None:
    quirks = quirks_for(manufacturer, model)
    assert quirks.name == "beurer-bm85"
    assert quirks.bp_big_endian_pulse_status and quirks.bp_user_id_always_present


@pytest.mark.parametrize(
    ("manufacturer", "model"),
    [("Beurer", "BM58"), ("Omron", "BM85"), (None, "BM85"), ("Beurer", None), ("A&D", "UA-651")],
)
def test_other_models_get_standard_behaviour(manufacturer: str | None, model: str | None) -> None:
    assert quirks_for(manufacturer, model) is NO_QUIRKS


def test_unknown_key_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown quirk keys"):
        parse_profiles('[[profile]]\nmanufacturer="X"\nmodel="Y"\nbp_typo=true\n')
    with pytest.raises(ValueError, match="must be bool"):
        parse_profiles('[[profile]]\nmanufacturer="X"\nmodel="Y"\nbp_big_endian_pulse_status=1\n')
