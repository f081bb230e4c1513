"""``homerpm cloud alerting``: the alerting loops without the API (optional; see service.py)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from cloud_api.alerting.service import run_alerting
from cloud_api.db.engine import make_engine
from cloud_api.db.migrate import upgrade
from cloud_api.settings import CloudSettings

log = logging.getLogger(__name__)


class AlertingCommand:
    help = "run escalation, delivery and cloud rules (when API replicas run with " \
           "HOMERPM_ALERTING_LOOPS=false)"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--db", default=None, help="database URL (env HOMERPM_DATABASE_URL)")

    def run(self, args: argparse.Namespace) -> int:
        settings = CloudSettings()
        if args.db:
            settings.database_url = args.db
        asyncio.run(_serve(settings))
        return 0


async def _serve(settings: CloudSettings) -> None:
    engine = make_engine(settings.database_url)
    try:
        if settings.migrate_on_start:
            await asyncio.to_thread(upgrade, engine)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        async with asyncio.TaskGroup() as tasks:
            loops = tasks.create_task(run_alerting(engine, settings))
            log.info("alerting loops running")
            await stop.wait()
            loops.cancel()
    finally:
        engine.dispose()
