"""Installer tools behind ``homerpm gateway scan`` and ``homerpm gateway pair``."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from device_drivers.ble.agent import PairingAgent, PasskeyProvider
from device_drivers.ble.bleak_transport import BleakTransport
from device_drivers.ble.kinds import HEALTH_DEVICES, classify
from device_drivers.ble.pairings import Pairing, PairingStore
from device_drivers.ble.session import read_device_info
from device_drivers.ble.transport import Advertisement, DeviceNotFound, Matcher
from device_drivers.uuids import short_name
from vitals.readings import ReadingKind


@dataclass(frozen=True, slots=True)
class Found:
    address: str
    name: str | None
    rssi: int | None
    services: tuple[str, ...]
    kind: ReadingKind | None

    def row(self) -> str:
        services = ",".join(short_name(u) for u in self.services) or "-"
        kind = self.kind.value if self.kind else "?"
        rssi = "" if self.rssi is None else str(self.rssi)
        return f"{self.address:<18} {rssi:>5}  {kind:<15} {self.name or '-':<24} {services}"


HEADER = f"{'ADDRESS':<18} {'RSSI':>5}  {'KIND':<15} {'NAME':<24} SERVICES"


def _found(adv: Advertisement) -> Found:
    return Found(adv.address, adv.name, adv.rssi, adv.service_uuids, classify(adv))


async def scan_devices(
    *, adapter: str = "hci0", seconds: float = 10.0, everything: bool = False
) -> list[Found]:
    """Listen for ``seconds`` on the shared scanner; health devices only unless
    ``everything``. The newest advertisement per address wins."""
    seen: dict[str, Found] = {}
    async with BleakTransport(adapter=adapter) as transport:
        matcher = Matcher() if everything else HEALTH_DEVICES
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                async for adv in transport.advertisements(matcher):
                    seen[adv.address] = _found(adv)
    return sorted(seen.values(), key=lambda f: (f.kind is None, -(f.rssi or -999)))


async def pair_device(
    address: str,
    *,
    patient: str,
    store: PairingStore,
    passkey: PasskeyProvider,
    adapter: str = "hci0",
    kind: ReadingKind | None = None,
    bond: bool = True,
    find_s: float = 30.0,
    capability: str = "KeyboardDisplay",
) -> Pairing:
    """Find ``address``, bond with it (our agent answers the passkey request), read its
    Device Information and record the device -> patient assignment."""
    address = address.upper()
    async with (
        PairingAgent(passkey=passkey, allow=[address], capability=capability),
        BleakTransport(adapter=adapter) as transport,
    ):
        try:
            async with asyncio.timeout(find_s):
                adv = await anext(transport.advertisements(Matcher.of(addresses=[address])))
        except TimeoutError:
            raise DeviceNotFound(address, f"not seen within {find_s:.0f} s; is it in "
                                          "pairing/transfer mode?") from None
        found_kind = kind or classify(adv)
        if found_kind is None:
            raise DeviceNotFound(address, "advertises no known health service; pass --kind")
        async with transport.connect(adv) as conn:
            if bond:
                await conn.pair()
            info = await read_device_info(conn)
    name = " ".join(x for x in (info.manufacturer, info.model) if x) or adv.name
    return store.put(Pairing(address, patient, found_kind, name, bonded=bond))
