"""In-process gateway (``gateway.app.run``) for integration tests that steer the network.

* :class:`QueueSource` — a device source the test feeds reading by reading.
* :class:`WebhookReceiver` — a real local HTTP server recording signed alert POSTs.
* :class:`TcpCut` — a TCP proxy between gateway and broker whose link can be cut (the
  home's internet goes down while the broker and the cloud keep running).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from gateway.webhook import sign
from vitals.ids import new_msg_id
from vitals.readings import DeviceRef, Glucose, Reading
from vitals.units import GlucoseUnit
from vitals.wire import GatewayEvent

METER = DeviceRef(make="HomeRPM", model="SimMeter", serial="sim-meter-1")


def glucose(mg_dl: float, patient: str) -> Glucose:
    now = datetime.now(UTC)
    return Glucose(msg_id=new_msg_id(now), patient=patient, device=METER, measured_at=now,
                   received_at=now, simulated=True, mg_dl=mg_dl, value_received=mg_dl,
                   unit_received=GlucoseUnit.MG_DL)


class QueueSource:
    def __init__(self, device_id: str) -> None:
        self.device_id = device_id
        self.queue: asyncio.Queue[Reading] = asyncio.Queue()
        self.patient_seen: list[str] = []

    async def readings(self) -> AsyncIterator[Reading | GatewayEvent]:
        while True:
            item = await self.queue.get()
            yield item


class WebhookReceiver:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.received: list[tuple[float, dict[str, object]]] = []
        self.bad_signatures = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> WebhookReceiver:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/alerts"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        headers: dict[str, str] = {}
        await reader.readline()
        while (line := await reader.readline()) not in (b"\r\n", b""):
            k, _, v = line.decode().partition(":")
            headers[k.strip().lower()] = v.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        expected = sign(self.secret, headers.get("x-homerpm-timestamp", ""), body)
        if headers.get("x-homerpm-signature") != expected:
            self.bad_signatures += 1
        else:
            self.received.append((time.monotonic(), json.loads(body)))
        writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()


class TcpCut:
    """127.0.0.1:port → broker; ``cut()`` drops every link and refuses new ones."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.down = False
        self.attempts: list[float] = []  # connection attempts (monotonic), for backoff checks
        self._links: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> TcpCut:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.cut()

    def cut(self) -> None:
        """Like a dead uplink: connects are refused, open links reset."""
        self.down = True
        if self._server is not None:
            self._server.close()
            self._server = None
        for w in list(self._links):
            w.transport.abort()
        self._links.clear()

    async def restore(self) -> None:
        self.down = False
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port,
                                                  reuse_address=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.attempts.append(time.monotonic())
        if self.down:
            writer.transport.abort()
            return
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._links |= {writer, up_w}

        async def pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await r.read(65536):
                    w.write(data)
                    await w.drain()
            w.transport.abort()

        await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer))
        self._links -= {writer, up_w}
