"""The PostgreSQL launcher and fixtures: a real server that takes connections and DDL."""

from pathlib import Path

import psycopg2
import pytest
import sqlalchemy as sa

from firmware_sim.services import Postgres

pytestmark = pytest.mark.services


def test_postgres_url_takes_ddl_and_unicode(postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE fixture_check (id serial PRIMARY KEY, name text)"))
            conn.execute(sa.text("INSERT INTO fixture_check (name) VALUES ('é ü'), ('x''y')"))
            names = conn.execute(sa.text("SELECT name FROM fixture_check ORDER BY id")).scalars()
            assert list(names) == ["é ü", "x'y"]
            conn.execute(sa.text("DROP TABLE fixture_check"))
    finally:
        engine.dispose()


def test_each_test_database_is_fresh(postgres_db_url: str, postgres_url: str) -> None:
    assert postgres_db_url != postgres_url
    engine = sa.create_engine(postgres_db_url)
    try:
        with engine.begin() as conn:
            assert sa.inspect(conn).get_table_names() == []
            conn.execute(sa.text("CREATE TABLE t (x int)"))
            assert sa.inspect(conn).get_table_names() == ["t"]
    finally:
        engine.dispose()


def test_stop_closes_the_server(tmp_path: Path) -> None:
    server = Postgres(tmp_path / "pg").start()
    try:
        with psycopg2.connect(server.url) as conn, conn.cursor() as cur:
            cur.execute("SELECT current_user")
            assert cur.fetchone() == ("homerpm",)
        conn.close()
        server.stop()
        assert server.process is not None and server.process.proc.poll() is not None
        with pytest.raises(psycopg2.OperationalError):
            psycopg2.connect(server.url, connect_timeout=2)
    finally:
        server.discard()
    assert server.datadir is None
