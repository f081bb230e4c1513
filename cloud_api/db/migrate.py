"""Bring a database to the newest schema with Alembic, from code (no alembic.ini)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> None:
    """Upgrade to every head using ``engine`` (idempotent; safe to call from every process).

    Feature areas may add independent migration branches from a common base; upgrading
    to ``heads`` applies all of them, so parallel work needs no merge revisions."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "heads")


def is_current(engine: Engine) -> bool:
    heads = set(ScriptDirectory.from_config(alembic_config("")).get_heads())
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads()) == heads


def upgrade_url(url: str) -> None:
    """Upgrade the database at ``url`` (one process at a time per engine: Alembic's
    context is module-global, so concurrent upgrades must be separate processes)."""
    from cloud_api.db.engine import make_engine

    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
