"""The pairing agent on a real D-Bus with the BlueZ mock.

BlueZoo 1.0.2 accepts RegisterAgent/RequestDefaultAgent and simulates Device1.Pair(),
but only runs pairing for a NoInputNoOutput agent and never calls an agent's methods.
So: registration and bleak's pair() are tested against the mock; the Agent1 methods are
called over D-Bus exactly as bluetoothd would call them (from another connection).
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from dbus_fast import BusType, Message, MessageType
from dbus_fast.aio import MessageBus

from device_drivers.ble.agent import AGENT_PATH, PairingAgent, address_of
from device_drivers.ble.bleak_transport import BleakTransport
from device_drivers.ble.transport import Matcher
from firmware_sim.bluez.mock import BlueZooMock
from firmware_sim.bluez.peripheral import BluezDevice
from firmware_sim.devices.glucose_gatt import GLUCOSE_SERVICE, GlucoseMeter

pytestmark = [pytest.mark.bluez, pytest.mark.timeout(120)]


def test_device_path_to_address() -> None:
    assert address_of("/org/bluez/hci0/dev_00_AA_00_00_00_0F") == "00:AA:00:00:00:0F"


async def call_agent(bus: MessageBus, agent_bus_name: str, member: str, signature: str,
                     body: list[object]) -> Message:
    reply = await bus.call(Message(destination=agent_bus_name, path=AGENT_PATH,
                                   interface="org.bluez.Agent1", member=member,
                                   signature=signature, body=body))
    assert reply is not None
    return reply


async def pairable(bus: MessageBus, adapter: str) -> bool:
    reply = await bus.call(Message(destination="org.bluez", path=f"/org/bluez/{adapter}",
                                   interface="org.freedesktop.DBus.Properties", member="Get",
                                   signature="ss", body=["org.bluez.Adapter1", "Pairable"]))
    assert reply is not None and reply.message_type is MessageType.METHOD_RETURN
    return bool(reply.body[0].value)


async def test_agent_answers_like_bluetoothd_expects(bluez: BlueZooMock) -> None:
    asked: list[str] = []

    async def passkey(address: str) -> int | None:
        asked.append(address)
        return 123456 if address == "00:AA:00:00:00:02" else None

    bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
    try:
        async with PairingAgent(passkey=passkey, allow=["00:AA:00:00:00:02"]) as agent:
            assert await pairable(bus, "hci0")  # the mock makes adapters pairable
            name = agent._bus.unique_name if agent._bus else ""
            meter = "/org/bluez/hci0/dev_00_AA_00_00_00_02"
            stranger = "/org/bluez/hci0/dev_00_AA_00_00_00_09"
            reply = await call_agent(bus, name, "RequestPasskey", "o", [meter])
            assert reply.message_type is MessageType.METHOD_RETURN and reply.body == [123456]
            reply = await call_agent(bus, name, "RequestPasskey", "o", [stranger])
            assert reply.error_name == "org.bluez.Error.Rejected"
            reply = await call_agent(bus, name, "RequestConfirmation", "ou", [meter, 42])
            assert reply.message_type is MessageType.METHOD_RETURN
            reply = await call_agent(bus, name, "RequestAuthorization", "o", [stranger])
            assert reply.error_name == "org.bluez.Error.Rejected"
            reply = await call_agent(bus, name, "AuthorizeService", "os", [stranger, "1808"])
            assert reply.error_name == "org.bluez.Error.Rejected"
        assert asked == ["00:AA:00:00:00:02", "00:AA:00:00:00:09"]
        assert ("RequestConfirmation", "00:AA:00:00:00:02") in agent.events
    finally:
        bus.disconnect()


async def test_bleak_pair_with_our_agent_registered(bluez: BlueZooMock) -> None:
    meter = GlucoseMeter()
    meter.add(100, at=dt.datetime(2026, 1, 1, 8))
    # The mock only completes pairing for NoInputNoOutput (Just Works) agents.
    async with (
        PairingAgent(allow=[bluez.addresses[2]], capability="NoInputNoOutput"),
        BluezDevice(meter, adapter="hci2"),
        BleakTransport(adapter="hci0") as transport,
    ):
        async with asyncio.timeout(30):
            adv = await anext(transport.advertisements(Matcher.of(services=[GLUCOSE_SERVICE])))
        async with transport.connect(adv) as conn:
            await conn.pair()
            assert conn.client is not None
            bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
            path = f"/org/bluez/hci0/dev_{bluez.addresses[2].replace(':', '_')}"
            reply = await bus.call(Message(
                destination="org.bluez", path=path,
                interface="org.freedesktop.DBus.Properties", member="Get", signature="ss",
                body=["org.bluez.Device1", "Paired"]))
            bus.disconnect()
    assert reply is not None and reply.body[0].value is True
