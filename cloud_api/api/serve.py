"""``homerpm cloud api``: serve the API with uvicorn."""

from __future__ import annotations

import argparse
import os


class ApiCommand:
    help = "serve the clinician API (FastAPI + uvicorn)"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--db", default=None, help="database URL (env HOMERPM_DATABASE_URL)")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1,
                            help="API processes sharing the port (one per core; each reads "
                            "the HOMERPM_* environment)")

    def run(self, args: argparse.Namespace) -> int:
        import uvicorn  # imported here so other CLI commands stay light

        from cloud_api.api.app import create_app
        from cloud_api.settings import CloudSettings

        # This is the process's entry point: the collector may be tuned (gc_tuning.py).
        os.environ.setdefault("HOMERPM_GC_TUNING", "true")
        if args.db:
            os.environ["HOMERPM_DATABASE_URL"] = args.db
        if args.workers > 1:  # uvicorn's workers each build the app from the environment
            uvicorn.run("cloud_api.api.app:create_app", factory=True, workers=args.workers,
                        host=args.host, port=args.port, log_level="info")
        else:
            uvicorn.run(create_app(CloudSettings()), host=args.host, port=args.port,
                        log_level="info")
        return 0
