"""Worker flags for batching and the time-series store (env vars where secrets are involved).

``--tsdb sqlite:PATH`` (default: an embedded SQLite file next to a SQLite relational
database, else ``var/tsdb.sqlite3``), ``--tsdb influx`` (+ ``--influx-url``, ``--influx-db``,
``--influx-flavor``, credentials from ``HOMERPM_INFLUX_USERNAME``/``_PASSWORD`` or
``HOMERPM_INFLUX_TOKEN``), or ``--tsdb none`` (relational archive only).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy.engine import make_url

from cloud_api.tsdb import InfluxConfig, TsdbConfig

_ENV = os.environ.get


def add_batch_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--batch-max-records", type=int, default=5000, metavar="N",
                        help="flush a batch at this many records (default 5000)")
    parser.add_argument("--batch-max-delay-ms", type=float, default=200.0, metavar="MS",
                        help="... or this long after its first message (default 200)")
    parser.add_argument("--receive-maximum", type=int, default=1000, metavar="N",
                        help="MQTT 5 Receive Maximum: unacked messages the broker may push")


def add_tsdb_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tsdb", default=_ENV("HOMERPM_TSDB"), metavar="sqlite:PATH|influx|none",
                        help="time-series store (env HOMERPM_TSDB; default: SQLite next to the DB)")
    parser.add_argument("--influx-url", default=_ENV("HOMERPM_INFLUX_URL", "http://127.0.0.1:8086"),
                        help="InfluxDB base URL (env HOMERPM_INFLUX_URL)")
    parser.add_argument("--influx-db", default=_ENV("HOMERPM_INFLUX_DB", "homerpm"),
                        help="database (1.x), DBRP-mapped database (2.x) or database (3.x)")
    parser.add_argument("--influx-rp", default=_ENV("HOMERPM_INFLUX_RP"),
                        help="retention policy (1.x / 2.x DBRP); unset = default")
    parser.add_argument("--influx-flavor", choices=["v1", "v2compat", "v3"],
                        default=_ENV("HOMERPM_INFLUX_FLAVOR", "v1"),
                        help="auth scheme: v1 user/password, v2compat Token, v3 Bearer")
    parser.add_argument("--influx-timeout", type=float, default=10.0, metavar="S",
                        help="per-request timeout (the store retries, then the worker does)")


def default_sqlite_path(database_url: str) -> str:
    """``foo/cloud.db`` → ``foo/cloud.tsdb.sqlite3``; a server database → ``var/tsdb.sqlite3``."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        db = Path(url.database)
        return str(db.with_name(db.stem + ".tsdb.sqlite3"))
    return "var/tsdb.sqlite3"


def tsdb_config_from(args: argparse.Namespace, database_url: str) -> TsdbConfig | None:
    """The store the flags name; None for ``--tsdb none``. ValueError on a bad combination."""
    choice = args.tsdb or f"sqlite:{default_sqlite_path(database_url)}"
    if choice == "none":
        return None
    if choice.startswith("sqlite:"):
        path = choice.removeprefix("sqlite:")
        if not path:
            raise ValueError("--tsdb sqlite:PATH needs a path")
        return TsdbConfig(backend="sqlite", sqlite_path=path)
    if choice != "influx":
        raise ValueError(f"--tsdb {choice!r}: use sqlite:PATH, influx or none")
    user, password, token = (_ENV("HOMERPM_INFLUX_USERNAME"), _ENV("HOMERPM_INFLUX_PASSWORD"),
                             _ENV("HOMERPM_INFLUX_TOKEN"))
    return TsdbConfig(backend="influx", influx=InfluxConfig(
        url=args.influx_url, database=args.influx_db, retention_policy=args.influx_rp,
        flavor=args.influx_flavor, timeout_s=args.influx_timeout,
        username=user, password=SecretStr(password) if password else None,
        token=SecretStr(token) if token else None,
    ))


def describe(config: TsdbConfig | None) -> str:
    if config is None:
        return "none"
    if config.backend == "sqlite":
        return f"sqlite:{config.sqlite_path}"
    return f"influx {config.influx.url} db={config.influx.database} ({config.influx.flavor})"
