"""Host health for the status message: Bluetooth adapter, CPU temperature, disk space.

Each probe answers ``None``/``"unknown"`` instead of failing: a heartbeat must go out even
on a box without BlueZ or a thermal zone.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path

log = logging.getLogger(__name__)

THERMAL = Path("/sys/class/thermal/thermal_zone0/temp")


def cpu_temp_c(path: Path = THERMAL) -> float | None:
    """SoC temperature (°C) from the first thermal zone, when the kernel has one."""
    try:
        return round(int(path.read_text().strip()) / 1000, 1)
    except (OSError, ValueError):
        return None


def disk_free_mb(path: Path) -> float | None:
    """Free space of the file system holding ``path`` (the outbox), in MiB."""
    probe = path if path.exists() else path.parent
    try:
        return round(shutil.disk_usage(probe).free / 2**20, 1)
    except OSError:
        return None


async def adapter_state(adapter: str = "hci0", timeout_s: float = 2.0) -> str:
    """``powered`` / ``off`` from BlueZ ``org.bluez.Adapter1.Powered`` on the system bus,
    ``absent`` when BlueZ has no such adapter, ``unknown`` without D-Bus/BlueZ."""
    try:
        from dbus_fast import BusType, Message, MessageType
        from dbus_fast.aio import MessageBus
    except ImportError:  # pragma: no cover - dbus-fast is a dependency
        return "unknown"
    bus: MessageBus | None = None
    try:
        async with asyncio.timeout(timeout_s):
            bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
            reply = await bus.call(Message(
                destination="org.bluez", path=f"/org/bluez/{adapter}",
                interface="org.freedesktop.DBus.Properties", member="Get",
                signature="ss", body=["org.bluez.Adapter1", "Powered"]))
    except (TimeoutError, OSError, ValueError) as exc:
        log.debug("adapter state unknown: %s", exc)
        return "unknown"
    except Exception as exc:  # dbus-fast raises its own error types
        log.debug("adapter state unknown: %r", exc)
        return "unknown"
    finally:
        if bus is not None:
            bus.disconnect()
    if reply is None or reply.message_type is MessageType.ERROR:
        name = reply.error_name if reply is not None else ""
        return "absent" if name and "UnknownObject" in name else "unknown"
    return "powered" if reply.body[0].value else "off"
