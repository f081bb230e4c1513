"""Outbox semantics against a real SQLite file."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import pytest

from gateway.outbox import Caps, Kind, Outbox
from tests.gateway.gw_factories import alert, bp
from vitals.alerts import Severity


@pytest.fixture
def box(tmp_path: Path) -> Outbox:
    return Outbox(tmp_path / "outbox.db", Caps(resend_after_ms=1000, lease_ms=500))


def test_pragmas_wal_and_full_sync(box: Outbox) -> None:
    assert box._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert box._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_reading_and_alerts_are_one_transaction(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db")
    r = bp(1)
    dup = alert(r)
    box.put(r, [dup], now=1)
    assert box.stats().depth == 2
    # Make every alert insert fail: the reading inserted before it must roll back too.
    r2 = bp(2)
    box._db.execute(
        "CREATE TRIGGER fail_alert BEFORE INSERT ON outbox WHEN NEW.kind = 'alert'"
        " BEGIN SELECT RAISE(ABORT, 'boom'); END"
    )
    with pytest.raises(sqlite3.IntegrityError):
        box.put(r2, [alert(r2)], now=2)
    assert r2.msg_id not in box.msg_ids()  # the reading rolled back with its alert
    assert box.stats().depth == 2


def test_next_batch_orders_alerts_first_then_seq(box: Outbox) -> None:
    readings = [bp(i) for i in range(3)]
    box.put(readings[0], now=1)
    a = alert(readings[1])
    box.put(readings[1], [a], now=2)
    box.put(readings[2], now=3)
    rows = box.next_batch(10, now=10)
    assert [r.msg_id for r in rows] == [a.msg_id] + [r.msg_id for r in readings]
    assert rows[0].kind is Kind.ALERT
    assert json.loads(rows[1].payload)["systolic"] == 120.0


def test_leased_rows_are_not_returned_twice_until_released(box: Outbox) -> None:
    box.put(bp(1), now=1)
    assert len(box.next_batch(10, now=10)) == 1
    assert box.next_batch(10, now=11) == []
    assert len(box.next_batch(10, now=10 + 500)) == 1  # lease expired
    box.release(box.msg_ids(), now=20)
    assert len(box.next_batch(10, now=20)) == 1


def test_published_unacked_rows_are_resent_after_timeout(box: Outbox) -> None:
    r = bp(1)
    box.put(r, now=0)
    box.next_batch(10, now=0)
    box.mark_published([r.msg_id], now=100)
    assert box.next_batch(10, now=1099) == []
    again = box.next_batch(10, now=1100)
    assert [x.msg_id for x in again] == [r.msg_id]
    assert again[0].attempts == 1
    assert box.unacked() == 1


def test_ack_deletes_only_named_rows_and_ignores_unknown(box: Outbox) -> None:
    a, b = bp(1), bp(2)
    box.put(a, now=0)
    box.put(b, now=0)
    assert box.ack([a.msg_id, "01JUNKNOWNUNKNOWNUNKNOWN00"]) == 1
    assert box.msg_ids() == [b.msg_id]
    assert box.stats().bytes == len(b.model_dump_json(exclude_none=True))


def test_duplicate_put_is_ignored(box: Outbox) -> None:
    r = bp(1)
    box.put(r, now=0)
    box.put(r, now=1)
    assert box.stats().depth == 1
    assert box.stats().bytes == len(r.model_dump_json(exclude_none=True))


def test_byte_cap_evicts_oldest_non_alerts_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    one = len(bp(0).model_dump_json(exclude_none=True))
    box = Outbox(tmp_path / "o.db", Caps(max_bytes=one * 5))
    first = bp(0, systolic=190)
    urgent = alert(first, Severity.URGENT)
    box.put(first, [urgent], now=0)
    readings = [bp(i) for i in range(1, 10)]
    with caplog.at_level(logging.WARNING, "gateway.outbox"):
        for r in readings:
            box.put(r, now=0)
    kept = box.msg_ids()
    assert urgent.msg_id in kept
    assert first.msg_id not in kept
    assert box.stats().bytes <= one * 5
    # the newest readings survive, oldest went first
    assert readings[-1].msg_id in kept and readings[0].msg_id not in kept
    evicted = box.stats().evicted_total
    assert evicted == 10 - (len(kept) - 1)
    assert "evicted" in caplog.text


def test_alerts_are_never_evicted_even_over_cap(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", Caps(max_bytes=10))
    r = bp(0)
    alerts = [alert(r) for _ in range(3)]
    box.put(r, alerts, now=0)
    assert set(box.msg_ids()) == {a.msg_id for a in alerts}


def test_age_cap_evicts_old_non_alerts(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", Caps(max_age_ms=1000))
    old, new = bp(0), bp(1)
    a = alert(old)
    box.put(old, [a], now=0)
    box.put(new, now=5000)
    assert box.enforce_caps(now=5500) == 1
    assert set(box.msg_ids()) == {a.msg_id, new.msg_id}


def test_survives_reopen_with_counts_and_clears_stale_leases(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    box = Outbox(path, Caps(max_bytes=10**9, lease_ms=10**9))
    rows = [bp(i) for i in range(3)]
    for r in rows:
        box.put(r, now=0)
    box.next_batch(2, now=0)  # leased, process "dies" before PUBACK
    box.next_batch(1, now=0)
    box.mark_published([rows[2].msg_id], now=0)
    box._evicted = 7
    box.set_meta("evicted_total", "7")
    box.close()
    again = Outbox(path, Caps(max_bytes=10**9, resend_after_ms=10**9))
    assert again.msg_ids() == [r.msg_id for r in rows]
    assert again.stats().evicted_total == 7
    assert again.stats().bytes == sum(len(r.model_dump_json(exclude_none=True)) for r in rows)
    # the two never-published rows are due at once; the published one waits for its ack
    assert [x.msg_id for x in again.next_batch(10, now=1)] == [r.msg_id for r in rows[:2]]


def test_rejects_are_kept_for_inspection(box: Outbox) -> None:
    box.record_reject("homerpm/v1/gw/ack", "not json", b"\xff\x00")
    assert box.rejects() == [("homerpm/v1/gw/ack", "not json", b"\xff\x00")]


def test_repeated_resends_back_off_exponentially_with_jitter_up_to_the_cap(
    tmp_path: Path,
) -> None:
    box = Outbox(tmp_path / "o.db", Caps(resend_after_ms=1000, resend_max_ms=6000))
    rows = [bp(i) for i in range(40)]
    for r in rows:
        box.put(r, now=0)
    ids = [r.msg_id for r in rows]
    now, waits = 0, []
    for _ in range(5):  # publish, never acked, resend when due, ...
        assert len(box.next_batch(100, now=now)) == 40
        box.mark_published(ids, now=now)
        due = [d for (d,) in box._db.execute("SELECT next_attempt_ms FROM outbox")]
        waits.append(sorted(d - now for d in due))
        now = max(due)
    assert waits[0] == [1000] * 40  # the first resend: exactly resend_after
    for n, nominal in ((1, 2000), (2, 4000), (3, 6000), (4, 6000)):  # 2ⁿ·1 s, capped
        assert nominal // 2 <= waits[n][0] and waits[n][-1] <= nominal
        assert len(set(waits[n])) > 1  # jittered: the rows of one burst spread out


def test_resend_unacked_makes_rows_published_before_the_reconnect_due_now(box: Outbox) -> None:
    a, b, c, d = bp(1), bp(2), bp(3), bp(4)
    for r in (a, b, c, d):
        box.put(r, now=0)
    box.next_batch(2, now=0)
    box.mark_published([a.msg_id, b.msg_id], now=10)  # due again at 1010
    box.next_batch(1, now=20)
    box.mark_published([c.msg_id], now=25)  # published on the new connection (at 22)
    assert [x.msg_id for x in box.next_batch(10, now=26)] == [d.msg_id]  # d now leased
    assert box.resend_unacked(published_before=22, now=30) == 2
    assert [x.msg_id for x in box.next_batch(10, now=30)] == [a.msg_id, b.msg_id]
