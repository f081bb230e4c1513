"""Run BlueZoo with one fix: a device can be connected again after a disconnect.

BlueZoo 1.0.2 exports a device's GATT service objects on every connect but never removes
them on disconnect, so the second ``Connect`` of the same device fails with EEXIST
(``sd_bus_add_object_vtable ... returned error number: 17``). Real BlueZ drops those
objects when the link goes down and resolves them again on the next connection; a cuff or
meter that wakes for each measurement needs exactly that. This launcher removes the
previous links before each connect and after each disconnect, then runs BlueZoo's own
``main``.

Test tooling only: it runs as its own process (``python -m firmware_sim.bluez.zoo``, started
by :class:`firmware_sim.bluez.mock.BlueZooMock`). BlueZoo is GPL-2.0 and comes with the
``test`` extra; nothing in the homerpm runtime imports this module.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

logger = logging.getLogger(__name__)


async def _drop_links(device: Any) -> None:
    mock = device.peer_adapter.mock
    for link in device.services.values():
        if hasattr(link, "client_props_changed_subscription"):  # a characteristic
            await _stop_notify(link)
        if link in mock.manager_export_handles:
            mock.remove_object(link)
    device.services.clear()


async def _stop_notify(link: Any) -> None:
    """End the link's subscription as BlueZ does when the link goes down: the peripheral's
    GATT application gets ``StopNotify``. Otherwise it stays ``Notifying`` and the next
    connection's ``StartNotify`` takes BlueZoo's ``AcquireNotify`` branch, which a GATT
    application without ``NotifyAcquired`` does not implement."""
    link.client_props_changed_subscription.unsubscribe()
    try:
        if link.client.Notifying.get():
            await link.client.StopNotify()
            # BlueZoo reads Notifying from a cache its PropertiesChanged handler updates
            # later; a reconnect right now would still see True.
            link.client.Notifying.cache(False)
    except Exception as exc:  # the peripheral may already be gone
        logger.debug("StopNotify on %s failed: %r", link, exc)


def patch() -> None:
    from bluezoo.device import Device  # type: ignore[import-untyped]

    connect, disconnect = Device.connect, Device.disconnect

    async def connect_again(self: Any, uuid: str | None = None) -> None:
        await _drop_links(self)  # a disconnect the peripheral side started leaves them behind
        await connect(self, uuid)

    async def disconnect_and_drop(self: Any, uuid: str | None = None) -> None:
        await disconnect(self, uuid)
        await _drop_links(self)

    Device.connect = connect_again
    Device.disconnect = disconnect_and_drop


def main() -> int:
    patch()
    from bluezoo import bluezoo  # type: ignore[import-untyped]

    sys.argv[0] = "bluezoo"
    result = bluezoo.main()
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
