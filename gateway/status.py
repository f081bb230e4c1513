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
from datetime import UTC, datetime

from gateway.outbox import AsyncOutbox, Stats
from gateway.uplink import Uplink, UplinkError
from vitals.ids import new_msg_id
from vitals.status import GatewayState, GatewayStatus
from vitals.wire import StatusMessage, encode

log = logging.getLogger(__name__)

SOFTWARE = "homerpm-gateway/0.1.0"


class StatusReporter:
    def __init__(self, gateway: str, topic: str, simulated: bool) -> None:
        self.gateway = gateway
        self.topic = topic
        self.simulated = simulated
        self.boot_id = new_msg_id()
        self.stats: Stats | None = None

    def message(self, state: GatewayState) -> StatusMessage:
        s = self.stats
        return StatusMessage(status=GatewayStatus(
            gateway=self.gateway, state=state, boot_id=self.boot_id, at=datetime.now(UTC),
            software=SOFTWARE,
            outbox_depth=s.depth if s else None,
            outbox_bytes=s.bytes if s else None,
            evicted_total=s.evicted_total if s else 0,
            simulated=self.simulated,
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
            if uplink.connected:
                try:
                    await uplink.publish(self.topic, self.online(), retain=True)
                except UplinkError as exc:
                    log.info("status heartbeat not sent: %s", exc)
            await asyncio.sleep(interval_s)
