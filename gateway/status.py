"""The gateway's retained presence/health message on ``homerpm/v1/{gw}/status``.

The same :class:`vitals.wire.StatusMessage` serves three roles: ``online`` after every
connect and as a periodic heartbeat (with outbox depth, bytes and evictions), the
``offline`` Last Will the broker publishes if we vanish, and the ``offline`` we publish
ourselves on a graceful shutdown. ``boot_id`` changes on every start so consumers can
drop a stale offline from an earlier boot.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from gateway.outbox import AsyncOutbox, Stats
from gateway.uplink import Uplink, UplinkError
from vitals.ids import new_msg_id
from vitals.status import DeviceHealth, GatewayState, GatewayStatus
from vitals.wire import StatusMessage, encode

log = logging.getLogger(__name__)

SOFTWARE = "homerpm-gateway/0.1.0"


@dataclass
class Health:
    """The host/device part of the heartbeat, refreshed by the reporter's probe."""

    config_version: int | None = None
    adapter: str | None = None
    cpu_temp_c: float | None = None
    disk_free_mb: float | None = None
    devices: tuple[DeviceHealth, ...] = field(default=())


class StatusReporter:
    def __init__(
        self, gateway: str, topic: str, simulated: bool,
        probe: Callable[[], Awaitable[Health]] | None = None,
    ) -> None:
        self.gateway = gateway
        self.topic = topic
        self.simulated = simulated
        self.boot_id = new_msg_id()
        self.stats: Stats | None = None
        self.health = Health()
        self.probe = probe
        self.beats = 0

    def message(self, state: GatewayState) -> StatusMessage:
        s = self.stats
        return StatusMessage(status=GatewayStatus(
            gateway=self.gateway, state=state, boot_id=self.boot_id, at=datetime.now(UTC),
            software=SOFTWARE,
            outbox_depth=s.depth if s else None,
            outbox_bytes=s.bytes if s else None,
            evicted_total=s.evicted_total if s else 0,
            simulated=self.simulated,
            config_version=self.health.config_version,
            adapter=self.health.adapter,
            cpu_temp_c=self.health.cpu_temp_c,
            disk_free_mb=self.health.disk_free_mb,
            devices=self.health.devices,
        ))

    def online(self) -> bytes:
        return encode(self.message(GatewayState.ONLINE))

    def offline(self) -> bytes:
        return encode(self.message(GatewayState.OFFLINE))

    async def run(self, outbox: AsyncOutbox, uplink: Uplink, interval_s: float) -> None:
        """Heartbeat: refresh outbox stats, apply the age cap, publish retained status."""
        while True:
            await outbox.enforce_caps()
            self.stats = await outbox.stats()
            if self.probe is not None:
                try:
                    self.health = await self.probe()
                except Exception:  # a probe must never stop the heartbeat
                    log.exception("health probe failed")
            self.beats += 1
            if uplink.connected:
                try:
                    await uplink.publish(self.topic, self.online(), retain=True)
                except UplinkError as exc:
                    log.info("status heartbeat not sent: %s", exc)
            await asyncio.sleep(interval_s)
