"""``homerpm cloud ingest`` / ``python -m cloud_api.ingest``: run (or retire) one worker."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence

from cloud_api.db.engine import make_engine
from cloud_api.db.migrate import upgrade
from cloud_api.gc_tuning import tune_gc
from cloud_api.ingest.config import BrokerAddress, IngestConfig, parse_broker_url
from cloud_api.ingest.directory import CachedDirectory
from cloud_api.ingest.series import SeriesSink
from cloud_api.ingest.settings import add_batch_flags, add_tsdb_flags, describe, tsdb_config_from
from cloud_api.ingest.sinks import ReadingSink, SqlStore
from cloud_api.ingest.trace import WriteTrace
from cloud_api.ingest.worker import IngestWorker, retire, run_until_stopped
from cloud_api.settings import CloudSettings
from cloud_api.tsdb import StoreConfigError, TsdbConfig, open_store

log = logging.getLogger(__name__)


class IngestCommand:
    help = "run one MQTT ingest worker (shared subscription; ack after durable write)"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--id", dest="worker_id", default="ingest-0",
                            help="stable worker id = MQTT client id (default ingest-0)")
        parser.add_argument("--broker",
                            default=os.environ.get("HOMERPM_MQTT_URL", "mqtt://127.0.0.1:1883"),
                            help="mqtt://host:port or mqtts://host:port (env HOMERPM_MQTT_URL)")
        parser.add_argument("--db", default=None, help="database URL (env HOMERPM_DATABASE_URL)")
        parser.add_argument("--username", default=os.environ.get("HOMERPM_MQTT_USERNAME"),
                            help="MQTT username (env HOMERPM_MQTT_USERNAME)")
        parser.add_argument("--password", default=os.environ.get("HOMERPM_MQTT_PASSWORD"),
                            help="MQTT password (env HOMERPM_MQTT_PASSWORD preferred)")
        parser.add_argument("--session-expiry", type=int, default=3600, metavar="S",
                            help="broker keeps our session this long while we are away")
        parser.add_argument("--retire", action="store_true",
                            help="delete this worker's broker session and exit (scale-in)")
        parser.add_argument("--trace-writes", metavar="FILE", default=None,
                            help="append one JSON line per flush: receive, durable-write and "
                                 "ack times with the msg_ids (latency analysis; off by default)")
        add_batch_flags(parser)
        add_tsdb_flags(parser)

    def run(self, args: argparse.Namespace) -> int:
        broker = parse_broker_url(args.broker)
        if args.username:
            broker = BrokerAddress(broker.host, broker.port, broker.tls,
                                   args.username, args.password)
        config = IngestConfig(
            args.worker_id, broker, session_expiry_s=args.session_expiry,
            receive_maximum=args.receive_maximum, batch_max_records=args.batch_max_records,
            batch_max_delay_s=args.batch_max_delay_ms / 1000.0,
        )
        if args.retire:
            asyncio.run(retire(config))
            return 0
        settings = CloudSettings()
        url = args.db or settings.database_url
        try:
            tsdb_config = tsdb_config_from(args, url)
        except ValueError as exc:
            print(f"ingest: {exc}", file=sys.stderr)
            return 2
        tune_gc()
        try:
            asyncio.run(_serve(config, url, tsdb_config, settings.migrate_on_start,
                               args.trace_writes))
        except (StoreConfigError, ExceptionGroup) as exc:
            fatal = _config_error(exc)
            if fatal is None:
                raise
            # Fatal: retrying cannot fix a wrong URL, database or credential. Say so loudly.
            log.critical("%s: time-series store misconfigured: %s (stopping; fix the "
                         "configuration and restart)", config.worker_id, fatal)
            print(f"ingest: time-series store misconfigured: {fatal}", file=sys.stderr)
            return 3
        return 0


def _config_error(exc: BaseException) -> StoreConfigError | None:
    """The StoreConfigError in ``exc`` (possibly nested in task-group exception groups)."""
    if isinstance(exc, StoreConfigError):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            if (found := _config_error(inner)) is not None:
                return found
    return None


async def _serve(
    config: IngestConfig, url: str, tsdb_config: TsdbConfig | None, migrate: bool,
    trace_path: str | None = None,
) -> None:
    engine = make_engine(url)
    try:
        if migrate:
            await asyncio.to_thread(upgrade, engine)
        archive = SqlStore(engine)
        directory = CachedDirectory(archive, config.directory_ttl_s)  # worker + status path
        series = None if tsdb_config is None else await open_store(tsdb_config)
        try:
            sink: ReadingSink = (archive if series is None
                                 else SeriesSink(archive, series, directory=directory))
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            log.info("ingest worker %s starting (db %s, time series %s)", config.worker_id,
                     engine.url.render_as_string(hide_password=True), describe(tsdb_config))
            trace = None if trace_path is None else WriteTrace(trace_path, config.worker_id)
            try:
                await run_until_stopped(IngestWorker(config, sink, directory, trace), stop)
            finally:
                if trace is not None:
                    trace.close()
        finally:
            if series is not None:
                await series.aclose()
    finally:
        engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cloud_api.ingest", description=IngestCommand.help
    )
    parser.add_argument("-v", "--verbose", action="count", default=0)
    command = IngestCommand()
    command.configure(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING - 10 * min(args.verbose, 2),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return command.run(args)


if __name__ == "__main__":
    sys.exit(main())
