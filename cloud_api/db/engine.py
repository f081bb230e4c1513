"""Engine and sessions: one place that knows SQLite from PostgreSQL.

Several processes (API, N ingest workers, the CLI) share one SQLite file in the demo,
so SQLite runs in WAL mode with a busy timeout, and every transaction starts with
``BEGIN IMMEDIATE``: a deferred transaction that reads first and writes later can fail
at once with "database is locked" when another process committed in between, which the
busy timeout cannot help with. Readers are not blocked in WAL mode.
"""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000


# orjson turns integers beyond 64 bits into floats instead of refusing them, so text with a
# run of 19+ digits goes to the stdlib (a long float mantissa too, harmlessly). Found by
# mapping every digit to "0" (bytes.translate: C speed, unlike a regex scan in Python).
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_NINETEEN_DIGITS = b"0" * 19


def load_json(text: str | bytes) -> Any:
    """JSON columns are decoded with orjson (≈ 3× the stdlib's speed with the check below:
    the inbox decodes 200 alert bodies per page), giving exactly what the stdlib gives:
    whatever orjson refuses (NaN, Infinity, 1e400, lone surrogates) or would change
    (integers beyond 64 bits) is decoded by the stdlib (tests/cloud_api/db/test_engine.py)."""
    try:
        raw = text.encode() if isinstance(text, str) else text
        if _NINETEEN_DIGITS not in raw.translate(_DIGITS_TO_ZERO):
            return orjson.loads(raw)
    except (UnicodeEncodeError, orjson.JSONDecodeError):
        pass
    return json.loads(text)


def make_engine(url: str, **kwargs: Any) -> Engine:
    kwargs.setdefault("json_deserializer", load_json)
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return create_engine(_pg_driver(parsed), pool_pre_ping=True, **kwargs)
    if parsed.get_backend_name() != "sqlite":
        raise ValueError(f"unsupported database {url!r}: use sqlite:/// or postgresql://")
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        **kwargs,
    )
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _pg_driver(url: URL) -> URL:
    """Plain ``postgresql://`` means psycopg 3 to SQLAlchemy 2.1; fall back to psycopg2
    (our ``postgres`` extra) when only that is installed."""
    if url.drivername != "postgresql" or importlib.util.find_spec("psycopg") is not None:
        return url
    return url.set(drivername="postgresql+psycopg2")


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN instead of the driver's implicit one.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    _wal(cursor)
    cursor.execute("PRAGMA foreign_keys=ON")
    # An ack tells the gateway it may delete its copy: the write must survive power loss.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _wal(cursor: Any) -> None:
    """WAL is stored in the file: only the first connection to a new database switches it.
    That switch needs the database to itself and can fail at once with "database is locked"
    when another process opens the new file at the same moment (seen in CI under load, the
    busy timeout notwithstanding), so it is retried briefly."""
    for attempt in range(100):
        if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
            return
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if attempt == 99:
                raise
            time.sleep(0.05)


READ_ONLY = "homerpm_read_only"


def _sqlite_on_begin(connection: Any) -> None:
    # Read-only sessions (see read_session_factory) take no write lock: in WAL mode their
    # snapshot never blocks, and they never write, so a deferred BEGIN cannot fail later.
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def read_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for queries only. On SQLite they do not take the write lock, so reads run
    concurrently with each other and with ingest instead of queueing behind every writer."""
    return sessionmaker(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)
