"""Fault injection at our own connection-manager seam (tests only).

The BlueZ mock used in CI cannot originate a peripheral-side disconnect, and no mock
reproduces BlueZ's flaky connect errors on demand. Both transports therefore accept a
:class:`Faults` object: the next connect to an address can be made to fail with a given
exception (raised exactly where the stack's own error would surface, so the recovery
code under test is the production code), and a live link can be dropped as if the
device had walked away.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Awaitable, Callable


class Faults:
    def __init__(self) -> None:
        self._connect_errors: defaultdict[str, deque[BaseException]] = defaultdict(deque)
        self._droppers: dict[str, Callable[[], Awaitable[None]]] = {}
        self.connect_attempts: defaultdict[str, int] = defaultdict(int)

    def fail_next_connects(self, address: str, *errors: BaseException) -> None:
        """Each following connect attempt to ``address`` raises the next error."""
        self._connect_errors[address.upper()].extend(errors)

    def before_connect(self, address: str) -> None:
        """Called by a transport right before each stack-level connect attempt."""
        key = address.upper()
        self.connect_attempts[key] += 1
        if self._connect_errors[key]:
            raise self._connect_errors[key].popleft()

    def register_link(self, address: str, drop: Callable[[], Awaitable[None]]) -> None:
        self._droppers[address.upper()] = drop

    def unregister_link(self, address: str) -> None:
        self._droppers.pop(address.upper(), None)

    async def drop(self, address: str) -> None:
        """Drop the live link to ``address`` as if the device had disconnected."""
        drop = self._droppers.get(address.upper())
        if drop is None:
            raise LookupError(f"no live link to {address}")
        await drop()

