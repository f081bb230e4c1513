"""Gateway presence: ordered by status time, idempotent, Last Will accepted; one verdict
(``presence_of``) for the cloud rule and the fleet API. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cloud_api.alerting.models import GatewayPresence
from cloud_api.alerting.presence import presence_of, record_status
from cloud_api.db.engine import session_factory
from vitals.status import DeviceHealth, GatewayState, GatewayStatus

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
GW = "gw-demo-1"


def status(state: GatewayState, at: datetime, boot: str = "boot-1", depth: int = 0,
           battery: int | None = None, software: str = "homerpm-gateway/0.1.0") -> GatewayStatus:
    devices = (DeviceHealth(device="cuff-1", battery_pct=battery),) if battery is not None else ()
    return GatewayStatus(gateway=GW, state=state, boot_id=boot, at=at, software=software,
                         outbox_depth=depth, config_version=3, devices=devices, simulated=True)


def feed(engine: Engine, *items: tuple[GatewayStatus, datetime]) -> GatewayPresence:
    for st, received in items:
        with session_factory(engine).begin() as db:
            record_status(db, st, received)
    with Session(engine) as db:
        row = db.get(GatewayPresence, GW)
        assert row is not None
        db.expunge(row)
        return row


ON, OFF = GatewayState.ONLINE, GatewayState.OFFLINE


def test_newest_status_is_kept_with_its_health(engine: Engine) -> None:
    later = T0 + timedelta(seconds=30)
    row = feed(engine, (status(ON, T0, depth=5, battery=80), T0),
               (status(ON, later, depth=2, battery=79), later + timedelta(seconds=1)))
    assert row.state == "online" and row.state_since == T0
    assert row.received_at == row.last_online_at == T0 + timedelta(seconds=31)
    assert row.last_status is not None and row.last_status["outbox_depth"] == 2
    assert row.last_status["devices"][0]["battery_pct"] == 79
    assert row.last_status["software"] == "homerpm-gateway/0.1.0"


def test_an_older_status_never_overwrites_a_newer_one(engine: Engine) -> None:
    late = T0 + timedelta(minutes=5)
    row = feed(engine, (status(ON, T0 + timedelta(seconds=30), depth=2), T0),
               (status(ON, T0, depth=99), late))  # an old heartbeat delivered late
    assert row.last_status is not None and row.last_status["outbox_depth"] == 2
    assert row.received_at == T0  # an old message is no sign of life either
    # an offline of an earlier boot, arriving after the new boot's online: stale
    row = feed(engine, (status(OFF, T0 - timedelta(hours=1), boot="boot-0"), late))
    assert row.state == "online" and row.boot_id == "boot-1"


def test_redelivery_changes_nothing(engine: Engine) -> None:
    beat = status(ON, T0, depth=4)
    first = feed(engine, (beat, T0))
    again = feed(engine, (beat, T0 + timedelta(minutes=20)))  # e.g. retained copy on resubscribe
    assert (again.received_at, again.last_online_at, again.at) == \
        (first.received_at, first.last_online_at, first.at)
    assert presence_of(again, T0 + timedelta(minutes=20)).reason == "heartbeat_missing"


def test_last_will_is_accepted_though_stamped_earlier(engine: Engine) -> None:
    # The Will was stamped at connect (T0), before this connection's heartbeats.
    will = status(OFF, T0, depth=50)
    beat_at = T0 + timedelta(minutes=3)
    gone = T0 + timedelta(minutes=5)
    row = feed(engine, (status(ON, T0 + timedelta(seconds=1)), T0),
               (status(ON, beat_at, depth=7, battery=60), beat_at), (will, gone))
    assert row.state == "offline" and row.state_since == gone and row.received_at == gone
    assert row.last_online_at == beat_at
    # the Will's stale outbox depth does not replace the newer heartbeat's
    assert row.last_status is not None and row.last_status["outbox_depth"] == 7
    p = presence_of(row, gone + timedelta(seconds=1))
    assert (p.online, p.reason, p.since) == (False, "reported_offline", gone)
    # the Will redelivered, and the last heartbeat redelivered: still offline since ``gone``
    row = feed(engine, (will, gone + timedelta(minutes=1)),
               (status(ON, beat_at, depth=7, battery=60), gone + timedelta(minutes=2)))
    assert row.state == "offline" and row.state_since == gone
    # the same boot reconnects (network back): a newer online wins
    back = gone + timedelta(minutes=10)
    row = feed(engine, (status(ON, back, depth=0), back))
    p = presence_of(row, back)
    assert (p.online, p.reason, p.since) == (True, None, back)


def test_silence_longer_than_the_limit_is_offline_since_last_heard(engine: Engine) -> None:
    row = feed(engine, (status(ON, T0), T0))
    assert presence_of(row, T0 + timedelta(seconds=600)).online
    p = presence_of(row, T0 + timedelta(seconds=601))
    assert (p.online, p.reason, p.since) == (False, "heartbeat_missing", T0)
    assert presence_of(row, T0 + timedelta(seconds=601), offline_after_s=900).online
