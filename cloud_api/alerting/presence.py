"""Gateway presence: the one place that stores a gateway's status and says whether it is online.

The ingest worker feeds every retained status, heartbeat and Last Will to :func:`record_status`;
the ``gateway_offline`` cloud rule and the fleet API (``GET /api/v1/gateways``) both judge the
stored row with :func:`presence_of`, so the page and the alert can never disagree.

Ordering is by the gateway's own status time (``at``), never by arrival: MQTT redelivers, a
restarted ingest worker receives every retained status again, and shared subscriptions spread
messages over workers. Two exceptions follow from how MQTT works:

* a Last Will is stamped when its connection opened, i.e. *before* the heartbeats of that same
  connection. An ``offline`` of the current ``boot_id`` is therefore accepted even though it is
  older; it changes the state but leaves the newer heartbeat's health (outbox, devices) alone.
* a status no newer than the stored one (same ``at``) is a duplicate or a retained copy, not a
  sign of life: it changes nothing, so a redelivery cannot make a dead gateway look alive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.orm import Session

from cloud_api.alerting.models import GatewayPresence
from vitals.status import GatewayState, GatewayStatus

# clinical.md §1.4/§2.5 #8: heartbeat missing > 10 min = offline (HOMERPM_GATEWAY_OFFLINE_AFTER_S)
OFFLINE_AFTER_S = 600.0

OfflineReason = Literal["reported_offline", "heartbeat_missing"]


def record_status(db: Session, status: GatewayStatus, received_at: datetime) -> None:
    """Keep the newest status per gateway; idempotent, ordered by status time (module doc)."""
    row = db.get(GatewayPresence, status.gateway)
    online = status.state is GatewayState.ONLINE
    body = status.model_dump(mode="json", exclude_none=True)
    if row is None:
        db.add(GatewayPresence(gateway_id=status.gateway, state=status.state.value,
                               boot_id=status.boot_id, at=status.at, received_at=received_at,
                               last_online_at=received_at if online else None,
                               simulated=status.simulated, state_since=received_at,
                               last_status=body))
        return
    if status.at > row.at:  # newer: it says everything about the gateway now
        if row.state != status.state.value:
            row.state_since = received_at
        row.state, row.boot_id, row.at = status.state.value, status.boot_id, status.at
        row.received_at, row.simulated, row.last_status = received_at, status.simulated, body
        if online:
            row.last_online_at = received_at
        return
    last_will = not online and status.boot_id == row.boot_id and row.state != status.state.value
    if last_will:  # older by its stamp, newer in fact: only the state moves (module doc)
        row.state, row.state_since, row.received_at = status.state.value, received_at, received_at
    # anything else is an old or repeated message after a newer one: ignored


@dataclass(frozen=True, slots=True)
class Presence:
    online: bool
    since: datetime  # start of the current state as the cloud observed it
    reason: OfflineReason | None  # why offline; None when online


def presence_of(row: GatewayPresence, now: datetime,
                offline_after_s: float = OFFLINE_AFTER_S) -> Presence:
    """Online, or offline because it said so (Last Will / shutdown) or went silent.

    ``since``: when the state began — the arrival of the offline status; for a silent gateway
    its last sign of life (it has been unreachable since then, as far as anyone can tell).
    """
    if row.state == GatewayState.OFFLINE.value:
        return Presence(False, row.state_since or row.received_at, "reported_offline")
    if row.received_at < now - timedelta(seconds=offline_after_s):
        return Presence(False, row.last_online_at or row.received_at, "heartbeat_missing")
    return Presence(True, row.state_since or row.received_at, None)
