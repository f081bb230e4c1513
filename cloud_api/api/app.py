"""The FastAPI application factory; the lifespan owns the engine and shared state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI

from cloud_api.api.routes import auth, ecg, health, patients
from cloud_api.dashboard import mount_dashboard
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
            yield
        finally:
            engine.dispose()

    app = FastAPI(title="HomeRPM API", version="1", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.throttle = LoginThrottle(settings.login_max_failures, settings.login_lockout_s)
    settings.token_key()  # fix the key now, not per request
    for module in (auth, patients, ecg, health):
        app.include_router(module.router)
    mount_dashboard(app)  # the browser UI: static files under /dashboard/
    return app
