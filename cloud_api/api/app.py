"""The FastAPI application factory; the lifespan owns the engine and shared state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI

from cloud_api.alerting.service import run_alerting
from cloud_api.api.errors import install_error_handlers
from cloud_api.api.routes import (
    admin,
    alerting_admin,
    alerts,
    audit,
    auth,
    ecg,
    fhir,
    gateways,
    health,
    me,
    patient_records,
    patients,
    reports,
    stream,
    thresholds,
)
from cloud_api.broker.background import config_retry_loop, make_config_publisher
from cloud_api.dashboard import mount_dashboard
from cloud_api.db.audit_writer import AuditRecorder
from cloud_api.db.engine import make_engine, read_session_factory, session_factory
from cloud_api.db.migrate import upgrade
from cloud_api.gc_tuning import tune_gc
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
            app.state.read_sessions = read_session_factory(engine)
            app.state.audit = AuditRecorder(
                app.state.sessions, interval_s=settings.audit_flush_s,
                max_pending=settings.audit_max_pending, write_behind=settings.audit_write_behind)
            app.state.config_publisher = make_config_publisher(settings)
            if settings.gc_tuning:
                tune_gc()  # last: start-up objects frozen, the collector sees only requests'
            async with anyio.create_task_group() as tasks:
                # Cancelling the group runs its final (shielded) flush: every read audited
                # before shutdown is written before the engine is disposed below.
                tasks.start_soon(app.state.audit.run)
                tasks.start_soon(config_retry_loop, app, settings.config_retry_s)
                if settings.alerting_loops:
                    tasks.start_soon(run_alerting, engine, settings)
                yield
                tasks.cancel_scope.cancel()
        finally:
            engine.dispose()

    app = FastAPI(title="HomeRPM API", version="1", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    settings.token_key()  # fix the key now, not per request
    install_error_handlers(app)
    for module in (auth, patients, ecg, health):
        app.include_router(module.router)
    app.include_router(me.router)
    app.include_router(admin.router)
    app.include_router(patient_records.router)
    app.include_router(gateways.router)
    app.include_router(thresholds.router)
    app.include_router(audit.router)
    app.include_router(fhir.router)
    app.include_router(alerts.router)
    app.include_router(stream.router)
    app.include_router(alerting_admin.router)
    app.include_router(reports.router)
    mount_dashboard(app)  # the browser UI: static files under /dashboard/
    return app
