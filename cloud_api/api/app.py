"""The FastAPI application factory; the lifespan owns the engine and shared state."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI

from cloud_api.alerting.service import run_alerting
from cloud_api.api.routes import alerting_admin, alerts, auth, health, patients, reports, stream
from cloud_api.db.engine import make_engine, session_factory
from cloud_api.db.migrate import upgrade
from cloud_api.security import LoginThrottle
from cloud_api.settings import CloudSettings

DESCRIPTION = """\
Clinician API of HomeRPM. Authenticate with `POST /api/v1/auth/token` (OAuth2 password
form) and send `Authorization: Bearer <token>`. Every read of patient data is audited.
HomeRPM reports measurements and the limits they crossed; it does not diagnose.
"""


def create_app(settings: CloudSettings | None = None) -> FastAPI:
    settings = settings or CloudSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        try:
            if settings.migrate_on_start:
                await anyio.to_thread.run_sync(upgrade, engine)
            app.state.engine = engine
            app.state.sessions = session_factory(engine)
            async with asyncio.TaskGroup() as tasks:
                if settings.alerting_loops:
                    loops = tasks.create_task(run_alerting(engine, settings))
                yield
                if settings.alerting_loops:
                    loops.cancel()
        finally:
            engine.dispose()

    app = FastAPI(title="HomeRPM API", version="1", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.throttle = LoginThrottle(settings.login_max_failures, settings.login_lockout_s)
    settings.token_key()  # fix the key now, not per request
    for module in (auth, patients, health):
        app.include_router(module.router)
    app.include_router(alerts.router)
    app.include_router(stream.router)
    app.include_router(alerting_admin.router)
    app.include_router(reports.router)
    return app
