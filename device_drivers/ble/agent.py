"""A BlueZ pairing agent (``org.bluez.Agent1``) on dbus-fast.

bleak's ``pair()`` calls ``Device1.Pair()`` but registers no agent, so passkey devices
(most glucose meters: the meter shows 6 digits, the gateway types them) fail with
``AuthenticationFailed`` (research ble.md §3.2). This agent:

* registers with ``AgentManager1.RegisterAgent`` (capability ``KeyboardDisplay`` by
  default) and becomes the default agent (``RequestDefaultAgent``);
* answers ``RequestPasskey`` / ``RequestPinCode`` from a caller-supplied provider (the
  ``homerpm gateway pair`` CLI prompts the installer); a provider returning None rejects;
* auto-accepts ``RequestConfirmation`` / ``RequestAuthorization`` / ``AuthorizeService``
  only for allow-listed addresses, rejects everything else;
* records every request in ``events`` (audit trail / tests).

No ``from __future__ import annotations``: dbus-fast reads signatures from annotations.
"""

import logging
from collections.abc import Awaitable, Callable, Iterable
from types import TracebackType

from dbus_fast import BusType, DBusError, Message, MessageType
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusObjectPath, DBusStr, DBusUInt16, DBusUInt32
from dbus_fast.service import ServiceInterface, dbus_method

log = logging.getLogger(__name__)

#: address -> passkey (0..999999) or None to refuse.
PasskeyProvider = Callable[[str], Awaitable[int | None]]

AGENT_PATH = "/org/homerpm/agent"
REJECTED = "org.bluez.Error.Rejected"
CANCELED = "org.bluez.Error.Canceled"


def address_of(device_path: str) -> str:
    """``/org/bluez/hci0/dev_AA_BB_CC_DD_EE_FF`` -> ``AA:BB:CC:DD:EE:FF``."""
    leaf = device_path.rsplit("/", 1)[-1]
    return leaf.removeprefix("dev_").replace("_", ":").upper()


async def _refuse(address: str) -> int | None:
    return None


class PairingAgent(ServiceInterface):
    def __init__(
        self,
        *,
        passkey: PasskeyProvider = _refuse,
        allow: Iterable[str] = (),
        capability: str = "KeyboardDisplay",
    ) -> None:
        super().__init__("org.bluez.Agent1")
        self._passkey = passkey
        self.allowed = {a.upper() for a in allow}
        self.capability = capability
        self.events: list[tuple[str, str]] = []
        self._bus: MessageBus | None = None

    def _note(self, what: str, device: str) -> str:
        address = address_of(device)
        self.events.append((what, address))
        log.info("agent: %s from %s", what, address)
        return address

    def _check_allowed(self, address: str, what: str) -> None:
        if address not in self.allowed:
            raise DBusError(REJECTED, f"{what} for {address} refused: not on the allow-list")

    @dbus_method()
    def Release(self) -> None:
        self.events.append(("Release", ""))

    @dbus_method()
    async def RequestPasskey(self, device: DBusObjectPath) -> DBusUInt32:
        address = self._note("RequestPasskey", device)
        value = await self._passkey(address)
        if value is None or not 0 <= value <= 999_999:
            raise DBusError(REJECTED, f"no passkey for {address}")
        return value

    @dbus_method()
    async def RequestPinCode(self, device: DBusObjectPath) -> DBusStr:
        address = self._note("RequestPinCode", device)
        value = await self._passkey(address)
        if value is None:
            raise DBusError(REJECTED, f"no PIN for {address}")
        return str(value)

    @dbus_method()
    def DisplayPasskey(self, device: DBusObjectPath, passkey: DBusUInt32,
                       entered: DBusUInt16) -> None:
        address = self._note("DisplayPasskey", device)
        log.warning("pairing %s: enter passkey %06d on the device", address, passkey)

    @dbus_method()
    def DisplayPinCode(self, device: DBusObjectPath, pincode: DBusStr) -> None:
        address = self._note("DisplayPinCode", device)
        log.warning("pairing %s: enter PIN %s on the device", address, pincode)

    @dbus_method()
    def RequestConfirmation(self, device: DBusObjectPath, passkey: DBusUInt32) -> None:
        self._check_allowed(self._note("RequestConfirmation", device), "confirmation")

    @dbus_method()
    def RequestAuthorization(self, device: DBusObjectPath) -> None:
        self._check_allowed(self._note("RequestAuthorization", device), "authorization")

    @dbus_method()
    def AuthorizeService(self, device: DBusObjectPath, uuid: DBusStr) -> None:
        self._check_allowed(self._note("AuthorizeService", device), f"service {uuid}")

    @dbus_method()
    def Cancel(self) -> None:
        self.events.append(("Cancel", ""))

    # Registration --------------------------------------------------------------------
    async def _manager(self, member: str, signature: str, body: list[object]) -> None:
        assert self._bus is not None
        reply = await self._bus.call(Message(
            destination="org.bluez", path="/org/bluez", interface="org.bluez.AgentManager1",
            member=member, signature=signature, body=body))
        if reply is None or reply.message_type is MessageType.ERROR:
            error = None if reply is None else f"{reply.error_name} {reply.body}"
            raise RuntimeError(f"AgentManager1.{member} failed: {error}")

    async def __aenter__(self) -> "PairingAgent":
        self._bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
        self._bus.export(AGENT_PATH, self)
        await self._manager("RegisterAgent", "os", [AGENT_PATH, self.capability])
        await self._manager("RequestDefaultAgent", "o", [AGENT_PATH])
        return self

    async def __aexit__(
        self,
        et: type[BaseException] | None,
        e: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bus is None:
            return
        try:
            await self._manager("UnregisterAgent", "o", [AGENT_PATH])
        except RuntimeError as exc:
            log.info("%s", exc)
        self._bus.unexport(AGENT_PATH, self)
        self._bus.disconnect()
        self._bus = None
