"""Alembic environment: run programmatically by :func:`cloud_api.db.migrate.upgrade`.

The whole upgrade runs in one transaction (SQLite: ``BEGIN IMMEDIATE`` via our engine;
PostgreSQL: plus an advisory lock), so two processes starting at once cannot both
create the schema.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

import cloud_api.db.access_models  # noqa: F401  (registers its tables on Base.metadata)
from cloud_api.db.engine import make_engine
from cloud_api.db.models import Base

_PG_LOCK_KEY = 0x486F6D65  # "Home"


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # ALTER via table copy
        transactional_ddl=True,
        compare_type=True,
    )
    with connection.begin():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        context.run_migrations()


def main() -> None:
    given = context.config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported")
main()
