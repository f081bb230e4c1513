"""A private system bus with the BlueZoo BlueZ mock on it (tests and demos; no radio).

``BlueZooMock(workdir, adapters).start()`` launches ``dbus-daemon --session`` on a unix
socket in ``workdir`` and ``bluezoo --auto-enable`` on it as separate processes, waits
until ``org.bluez`` answers, and stops both by pid. Point bleak and the simulators at
it with ``DBUS_SYSTEM_BUS_ADDRESS`` (:meth:`BlueZooMock.env`).

BlueZoo (Samsung/BlueZoo) is GPL-2.0 and only ever run as a separate program from the
``test`` extra — never imported.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from firmware_sim.services import ManagedProcess, ServiceError, find_binary, spawn

#: Where ``firmware_sim`` is imported from, so the launcher finds it when the package is
#: used from a checkout rather than installed.
_IMPORT_ROOT = str(Path(__file__).resolve().parents[2])


def adapter_address(index: int) -> str:
    return f"00:AA:00:00:00:{index:02X}"


class BlueZooMock:
    def __init__(self, workdir: Path, adapters: int = 2, scan_interval: int = 1) -> None:
        self.workdir = workdir
        self.addresses = [adapter_address(i) for i in range(adapters)]
        self.scan_interval = scan_interval
        self.bus_address = f"unix:path={workdir / 'system_bus_socket'}"
        self._procs: list[ManagedProcess] = []

    def env(self) -> dict[str, str]:
        return {"DBUS_SYSTEM_BUS_ADDRESS": self.bus_address}

    def _bluezoo(self) -> list[str]:
        """BlueZoo through our launcher (:mod:`firmware_sim.bluez.zoo`: devices can
        reconnect), in this interpreter, which has the ``test`` extra installed."""
        if importlib.util.find_spec("bluezoo") is None:
            raise ServiceError("bluezoo is not installed; pip install 'homerpm[test]'")
        return [sys.executable, "-m", "firmware_sim.bluez.zoo"]

    def _answers(self) -> bool:
        result = subprocess.run(
            ["dbus-send", f"--bus={self.bus_address}", "--print-reply", "--dest=org.bluez",
             "/org/bluez/hci0", "org.freedesktop.DBus.Properties.Get",
             "string:org.bluez.Adapter1", "string:Powered"],
            capture_output=True, text=True, timeout=5, check=False,
        )
        return result.returncode == 0 and "true" in result.stdout

    def start(self, timeout: float = 20.0) -> BlueZooMock:
        self.workdir.mkdir(parents=True, exist_ok=True)
        dbus = find_binary("dbus-daemon", "apt-get install dbus")
        find_binary("dbus-send", "apt-get install dbus")
        self._procs.append(spawn("dbus-daemon", [
            dbus, "--session", "--nofork", "--nopidfile", "--print-address",
            f"--address={self.bus_address}"], self.workdir))
        socket = self.workdir / "system_bus_socket"
        deadline = time.monotonic() + timeout
        while not socket.exists():
            if time.monotonic() > deadline or self._procs[0].proc.poll() is not None:
                self.stop()
                raise ServiceError(f"dbus-daemon did not start: {self._procs[0].log()}")
            time.sleep(0.02)
        argv = [*self._bluezoo(), "--auto-enable", "--scan-interval", str(self.scan_interval)]
        for address in self.addresses:
            argv += ["-a", address]
        path = os.pathsep.join(filter(None, [_IMPORT_ROOT, os.environ.get("PYTHONPATH")]))
        bluezoo = spawn("bluezoo", argv, self.workdir, env={**self.env(), "PYTHONPATH": path})
        self._procs.append(bluezoo)
        while not self._answers():
            if time.monotonic() > deadline or bluezoo.proc.poll() is not None:
                self.stop()
                raise ServiceError(f"bluezoo did not come up: {bluezoo.log()[-2000:]}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        # bluezoo first: it does not exit when its bus goes away.
        for proc in reversed(self._procs):
            proc.stop()
        self._procs.clear()

    @contextmanager
    def environment(self) -> Iterator[None]:
        """Set ``DBUS_SYSTEM_BUS_ADDRESS`` for in-process D-Bus clients (bleak, dbus-fast)."""
        old = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS")
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = self.bus_address
        try:
            yield
        finally:
            if old is None:
                os.environ.pop("DBUS_SYSTEM_BUS_ADDRESS", None)
            else:
                os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = old
