"""sd_notify reaches a real datagram socket; without systemd it is a no-op."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from gateway import systemd


def test_notify_sends_state_to_notify_socket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(path))
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        assert systemd.notify("READY=1")
        assert server.recv(64) == b"READY=1"


def test_without_systemd_nothing_happens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    assert not systemd.notify("READY=1")
    assert systemd.watchdog_interval_s() is None


def test_watchdog_interval_is_half_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "60000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert systemd.watchdog_interval_s() == 30.0
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))
    assert systemd.watchdog_interval_s() is None


async def test_watchdog_pings_only_while_the_liveness_probe_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    path = tmp_path / "wd.sock"
    wedged = asyncio.Event()

    async def probe() -> None:
        if wedged.is_set():
            await asyncio.sleep(3600)  # e.g. the outbox thread stuck in a transaction

    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(path))
        server.setblocking(False)
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        task = asyncio.create_task(systemd.watchdog(probe, interval_s=0.05))
        await asyncio.sleep(0.3)
        pings = _drain(server)
        wedged.set()
        await asyncio.sleep(0.2)
        _drain(server)  # a ping may have been sent just before the probe wedged
        await asyncio.sleep(0.4)
        silent = _drain(server)
        task.cancel()
    assert pings >= 3
    assert silent == 0


def _drain(server: socket.socket) -> int:
    n = 0
    while True:
        try:
            assert server.recv(64) == b"WATCHDOG=1"
        except BlockingIOError:
            return n
        n += 1
