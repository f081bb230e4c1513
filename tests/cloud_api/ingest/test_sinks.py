"""SqlStore: idempotent writes with exact counts, on the real database engine."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from cloud_api.db.models import DeadLetterRow, ReadingRow
from cloud_api.ingest.batch import DeadLetter, IngestBatch, WriteResult
from cloud_api.ingest.sinks import SqlStore
from tests.cloud_api.factories import T0, bp

GW = "gw-demo-1"


async def test_rewrites_are_counted_as_duplicates(engine: Engine) -> None:
    store = SqlStore(engine)
    old = tuple(bp(minutes=i) for i in range(3))
    new = tuple(bp(minutes=10 + i) for i in range(2))
    letter = DeadLetter("t", b"raw", "why", T0, GW)
    first = await store.write(IngestBatch(T0, GW, readings=old, dead_letters=(letter,)))
    again = await store.write(IngestBatch(T0, GW, readings=old[1:] + new, dead_letters=(letter,)))
    assert first == WriteResult(stored=3, duplicates=0, dead_lettered=1)
    assert again == WriteResult(stored=2, duplicates=2, dead_lettered=0)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count(ReadingRow.msg_id))) == 5
        assert conn.scalar(select(func.count(DeadLetterRow.id))) == 1


async def test_large_batch_in_one_write(engine: Engine) -> None:
    readings = tuple(bp(minutes=i) for i in range(1000))
    result = await SqlStore(engine).write(IngestBatch(T0, GW, readings=readings))
    assert result.stored == 1000
