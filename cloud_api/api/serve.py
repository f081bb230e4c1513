"""``homerpm cloud api``: serve the API with uvicorn."""

from __future__ import annotations

import argparse


class ApiCommand:
    help = "serve the clinician API (FastAPI + uvicorn)"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--db", default=None, help="database URL (env HOMERPM_DATABASE_URL)")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def run(self, args: argparse.Namespace) -> int:
        import uvicorn  # imported here so other CLI commands stay light

        from cloud_api.api.app import create_app
        from cloud_api.settings import CloudSettings

        settings = CloudSettings()
        if args.db:
            settings = settings.model_copy(update={"database_url": args.db})
        uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
        return 0
