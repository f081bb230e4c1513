"""The local status page: plain HTTP on the LAN, readable on a phone, no internet assets.

Standard library only (``asyncio.start_server``; a web framework would cost several MB of
the Pi's 60 MB budget for one page). ``GET /`` is the HTML page (refreshes itself every
30 s), ``GET /status.json`` the same data as JSON; anything else is 404. One small
request per connection, then close — this is not a general web server. There is no
login: bind it to the home LAN (``status_page.host``), never expose it to the internet.
Patient pseudonyms are shown, never names.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

from gateway.localview import LocalView
from vitals.alerts import Severity

log = logging.getLogger(__name__)

_STYLE = """body{font-family:sans-serif;font-size:1.3em;margin:0.6em;line-height:1.4}
h1{font-size:1.5em}h2{font-size:1.25em;margin-top:1.2em}
.card{border:2px solid #888;border-radius:8px;padding:0.5em;margin:0.4em 0}
.urgent{border-color:#b00000;background:#ffe5e5}.warning{border-color:#b06000;background:#fff3df}
.sim{background:#444;color:#fff;padding:0 0.3em;border-radius:4px;font-size:0.8em}
.muted{color:#555;font-size:0.85em}.low{color:#b00000}"""


def _ago(at: datetime | None, now: datetime) -> str:
    if at is None:
        return "never"
    s = int((now - at).total_seconds())
    if s < 90:
        return f"{s} s ago"
    if s < 5400:
        return f"{s // 60} min ago"
    return f"{s // 3600} h ago"


def _sim(flag: bool) -> str:
    return ' <span class="sim">SIMULATED</span>' if flag else ""


#: Below this a device is worth a battery change before it stops measuring (the same
#: mark as the clinicians' fleet page).
LOW_BATTERY_PCT = 20


def _battery(pct: int | None) -> str:
    if pct is None:
        return ""
    if pct < LOW_BATTERY_PCT:
        return f'<b class="low">Battery {pct} % — please change or charge it</b><br>'
    return f"Battery {pct} %<br>"


#: What ``html.escape(s, quote=True)`` replaces (in one pass). The stdlib ``html`` module
#: imports ``html.entities`` (its 2 000-entry tables cost ~0.45 MB of the gateway's RSS)
#: for ``unescape``, which this page never needs.
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"})


def escape(text: str) -> str:
    """``html.escape(text)``: the text safe inside HTML elements and quoted attributes."""
    return text.translate(_ESCAPES)


def render_html(view: LocalView, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    e = escape
    h = view.health
    parts = ['<!doctype html><html><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             '<meta http-equiv="refresh" content="30">',
             f"<title>HomeRPM gateway</title><style>{_STYLE}</style></head><body>",
             f"<h1>HomeRPM gateway {e(str(h.get('gateway', '')))}</h1>"]
    cloud = "connected" if h.get("online") else "NOT connected (readings are kept and sent later)"
    parts.append(f'<p>Cloud: <b>{e(cloud)}</b><br>Waiting to send: {h.get("outbox_depth", "?")}'
                 f'<br><span class="muted">Bluetooth: {e(str(h.get("adapter", "unknown")))}'
                 f' · updated {e(now.strftime("%H:%M:%S"))} UTC</span></p>')
    parts.append("<h2>Alerts</h2>")
    active = sorted(view.alerts.values(), key=lambda a: (-a.severity, a.raised_at))
    if not active:
        parts.append("<p>No active alerts.</p>")
    for a in active:
        cls = "urgent" if a.severity >= Severity.URGENT else (
            "warning" if a.severity >= Severity.WARNING else "")
        parts.append(f'<div class="card {cls}"><b>{e(a.severity.label.upper())}: {e(a.title)}'
                     f"</b>{_sim(a.simulated)}<br>{e(a.explanation)}<br>"
                     f'<span class="muted">patient {e(a.patient)} · since'
                     f" {_ago(a.raised_at, now)}</span></div>")
    parts.append("<h2>Devices</h2>")
    if not view.devices:
        parts.append("<p>No devices configured.</p>")
    batteries: dict[str, int] = h.get("battery_pct") or {}
    for d in view.devices:
        last = view.last.get(d.device_id)
        reading = (f"{e(last.text)} · {_ago(last.at, now)}{_sim(last.simulated)}"
                   if last else "no reading yet")
        parts.append(f'<div class="card"><b>{e(d.device_id)}</b> ({e(d.kind)})'
                     f"{_sim(d.simulated)}<br>{reading}<br>{_battery(batteries.get(d.device_id))}"
                     f'<span class="muted">patient {e(d.patient)}</span></div>')
    parts.append('<p class="muted">Readings marked SIMULATED come from a simulator, not a'
                 " patient. This page shows alerts; it does not give a diagnosis.</p>")
    parts.append("</body></html>")
    return "".join(parts)


def render_json(view: LocalView) -> dict[str, Any]:
    return {
        "health": view.health,
        "devices": [{"id": d.device_id, "kind": d.kind, "patient": d.patient,
                     "simulated": d.simulated,
                     "battery_pct": (view.health.get("battery_pct") or {}).get(d.device_id),
                     "last": None if (lr := view.last.get(d.device_id)) is None else
                     {"at": lr.at.isoformat(), "text": lr.text, "simulated": lr.simulated}}
                    for d in view.devices],
        "alerts": [a.model_dump(mode="json", exclude_none=True) for a in view.alerts.values()],
    }


class StatusPage:
    def __init__(self, view: LocalView, host: str, port: int) -> None:
        self.view = view
        self.host = host
        self.port = port
        self.bound_port: int | None = None
        self.started = asyncio.Event()

    async def run(self) -> None:
        server = await asyncio.start_server(self._handle, self.host, self.port, limit=8192)
        self.bound_port = server.sockets[0].getsockname()[1]
        log.info("local status page on http://%s:%d/", self.host, self.bound_port)
        self.started.set()
        async with server:
            await server.serve_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(5):
                request = await reader.readline()
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass  # headers: not needed
            parts = request.decode("latin-1").split()
            path = parts[1] if len(parts) >= 2 else ""
            if len(parts) < 2 or parts[0] != "GET":
                status, ctype, body = "405 Method Not Allowed", "text/plain", b"GET only\n"
            elif path in ("/", "/index.html"):
                status, ctype = "200 OK", "text/html; charset=utf-8"
                body = render_html(self.view).encode()
            elif path == "/status.json":
                status, ctype = "200 OK", "application/json"
                body = json.dumps(render_json(self.view)).encode()
            else:
                status, ctype, body = "404 Not Found", "text/plain", b"not found\n"
            writer.write(f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length:"
                         f" {len(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
                         .encode() + body)
            await writer.drain()
        except (TimeoutError, ConnectionError, ValueError) as exc:
            log.debug("status page request failed: %s", exc)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
