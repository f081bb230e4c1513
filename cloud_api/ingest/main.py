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
from cloud_api.ingest.config import BrokerAddress, IngestConfig, parse_broker_url
from cloud_api.ingest.sinks import SqlStore
from cloud_api.ingest.worker import IngestWorker, retire, run_until_stopped
from cloud_api.settings import CloudSettings

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

    def run(self, args: argparse.Namespace) -> int:
        broker = parse_broker_url(args.broker)
        if args.username:
            broker = BrokerAddress(broker.host, broker.port, broker.tls,
                                   args.username, args.password)
        config = IngestConfig(args.worker_id, broker, session_expiry_s=args.session_expiry)
        if args.retire:
            asyncio.run(retire(config))
            return 0
        settings = CloudSettings()
        url = args.db or settings.database_url
        asyncio.run(_serve(config, url, settings.migrate_on_start))
        return 0


async def _serve(config: IngestConfig, url: str, migrate: bool) -> None:
    engine = make_engine(url)
    try:
        if migrate:
            await asyncio.to_thread(upgrade, engine)
        store = SqlStore(engine)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        log.info("ingest worker %s starting (db %s)", config.worker_id,
                 engine.url.render_as_string(hide_password=True))
        await run_until_stopped(IngestWorker(config, store, store), stop)
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
