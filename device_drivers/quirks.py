"""Declarative per-model quirk profiles for non-conformant devices.

The profiles are data (``quirks.toml`` next to this module), selected by the Device
Information manufacturer name and model number. Decoders and encoders take an optional
``quirks`` argument; :data:`NO_QUIRKS` means "exactly as the Bluetooth SIG specifies".
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, fields
from functools import cache
from importlib.resources import files


@dataclass(frozen=True, slots=True)
class Quirks:
    """Switches that bend a characteristic layout to what a model really sends."""

    name: str = "standard"
    #: BP Measurement: pulse rate SFLOAT and measurement status are big-endian.
    bp_big_endian_pulse_status: bool = False
    #: BP Measurement: a user-id byte is present even when flags bit 3 is clear.
    bp_user_id_always_present: bool = False
    #: BP Measurement: a mean arterial pressure of exactly 0 means "not measured"
    #: (decoded as NaN; NaN is encoded back as 0).
    bp_zero_mean_arterial_is_absent: bool = False
    source: str = ""


NO_QUIRKS = Quirks()


@dataclass(frozen=True, slots=True)
class QuirkProfile:
    manufacturer: str
    model: str
    quirks: Quirks

    def matches(self, manufacturer: str | None, model: str | None) -> bool:
        if manufacturer is None or model is None:
            return False
        return _norm(self.manufacturer) in _norm(manufacturer) and _norm(self.model) == _norm(model)


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text).casefold()


_QUIRK_FIELDS = {f.name for f in fields(Quirks)}


def parse_profiles(text: str) -> tuple[QuirkProfile, ...]:
    """Parse a quirks TOML document; ``ValueError`` on unknown keys or wrong types."""
    document = tomllib.loads(text)
    profiles = []
    for entry in document.get("profile", []):
        entry = dict(entry)
        manufacturer = entry.pop("manufacturer", None)
        model = entry.pop("model", None)
        if not isinstance(manufacturer, str) or not isinstance(model, str):
            raise ValueError(f"quirk profile needs manufacturer and model strings: {entry}")
        unknown = set(entry) - _QUIRK_FIELDS
        if unknown:
            raise ValueError(f"unknown quirk keys {sorted(unknown)} in profile {model!r}")
        for key, value in entry.items():
            expected = str if key in ("name", "source") else bool
            if not isinstance(value, expected):
                raise ValueError(f"quirk {key!r} of {model!r} must be {expected.__name__}")
        profiles.append(QuirkProfile(manufacturer, model, Quirks(**entry)))
    return tuple(profiles)


@cache
def builtin_profiles() -> tuple[QuirkProfile, ...]:
    """The profiles shipped in ``device_drivers/quirks.toml``."""
    text = files("device_drivers").joinpath("quirks.toml").read_text(encoding="utf-8")
    return parse_profiles(text)


def quirks_for(
    manufacturer: str | None,
    model: str | None,
    profiles: tuple[QuirkProfile, ...] | None = None,
) -> Quirks:
    """The quirks for a device, by its Device Information strings; NO_QUIRKS if none match."""
    for profile in builtin_profiles() if profiles is None else profiles:
        if profile.matches(manufacturer, model):
            return profile.quirks
    return NO_QUIRKS
