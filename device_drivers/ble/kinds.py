"""Which kind of health device an advertisement is, by its advertised services."""

from __future__ import annotations

from collections.abc import Iterable

from device_drivers.ble.transport import Advertisement, Matcher
from device_drivers.uuids import PMD_SERVICE, normalize_uuid
from vitals.readings import ReadingKind

#: Advertised service -> kind, most specific first (a Polar strap advertises Heart Rate
#: and, in our simulator, PMD as well: PMD wins).
SERVICE_KINDS: dict[str, ReadingKind] = {
    PMD_SERVICE: ReadingKind.ECG,
    normalize_uuid("1810"): ReadingKind.BLOOD_PRESSURE,
    normalize_uuid("1808"): ReadingKind.GLUCOSE,
    normalize_uuid("1822"): ReadingKind.SPO2,
    normalize_uuid("181d"): ReadingKind.BODY_WEIGHT,
    normalize_uuid("180d"): ReadingKind.HEART_RATE,
}

#: The shared scanner's matcher for everything the gateway can read.
HEALTH_DEVICES = Matcher.of(services=SERVICE_KINDS)

#: Name prefixes of devices whose ECG service is not advertised (it is found after
#: connecting): the Polar H10 advertises only Heart Rate.
_ECG_NAMES = ("Polar H10",)


def classify(adv: Advertisement) -> ReadingKind | None:
    return classify_services(adv.service_uuids, adv.name)


def classify_services(services: Iterable[str], name: str | None = None) -> ReadingKind | None:
    present = {normalize_uuid(u) for u in services}
    if name and name.startswith(_ECG_NAMES):
        return ReadingKind.ECG
    for uuid, kind in SERVICE_KINDS.items():
        if uuid in present:
            return kind
    return None
