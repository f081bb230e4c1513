"""A real API server (uvicorn in a thread) on a seeded SQLite database, and a headless
chromium. Package-scoped: starting them per test would dominate the run time."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from playwright.sync_api import Browser, Page, expect, sync_playwright
from pydantic import SecretStr

from cloud_api import security
from cloud_api.api.app import create_app
from cloud_api.dashboard.demo_data import DemoFleet, seed
from cloud_api.dashboard.live_server import serve
from cloud_api.db.engine import make_engine
from cloud_api.db.migrate import upgrade
from cloud_api.settings import CloudSettings
from firmware_sim.services import ManagedProcess, Mosquitto, spawn
from tests.cloud_api.dashboard.browser import CHROMIUM, CHROMIUM_ARGS

REPO = Path(__file__).resolve().parents[3]

# The machine is shared: give pages time to load under load (these are not speed checks).
expect.set_options(timeout=20_000)


@dataclass(frozen=True)
class Site:
    url: str
    db_url: str
    fleet: DemoFleet


@pytest.fixture(scope="package")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    cheap = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    saved, security._HASHER = security._HASHER, cheap  # tests need the logic, not the cost
    db_url = f"sqlite:///{tmp_path_factory.mktemp('dash')}/cloud.db"
    engine = make_engine(db_url)
    upgrade(engine)
    # 13 days keeps every seeded reading inside the dashboard's 14-day window
    fleet = seed(engine, datetime.now(UTC), days=13)
    engine.dispose()
    # sse_poll_s / alerting_loops are the alert service's settings (ignored where absent)
    settings = CloudSettings(database_url=db_url, migrate_on_start=False, sse_poll_s=0.1,
                             alerting_loops=False,
                             jwt_secret=SecretStr("dashboard-tests-" + "x" * 32))
    try:
        with serve(create_app(settings)) as url:
            yield Site(url, db_url, fleet)
    finally:
        security._HASHER = saved


@pytest.fixture
def ingest(site: Site, mosquitto: Mosquitto, tmp_path: Path) -> Iterator[ManagedProcess]:
    """An ingest worker *process* storing into the site's database from a real mosquitto."""
    proc = spawn("ingest", [sys.executable, "-m", "cloud_api.ingest", "-v", "--id", "ingest-ui",
                            "--broker", f"mqtt://{mosquitto.host}:{mosquitto.port}",
                            "--db", site.db_url], tmp_path / "ingest",
                 env={"PYTHONPATH": str(REPO)})
    try:
        deadline = time.monotonic() + 20
        while "subscribed" not in proc.log():
            assert proc.proc.poll() is None and time.monotonic() < deadline, proc.log()
            time.sleep(0.05)
        yield proc
    finally:
        proc.stop()


# Module scope, not wider: while Playwright's sync API is open, this thread has a running
# event loop, so asyncio.run() in any later test (other packages) would fail.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: apt-get install chromium (see .ci/setup)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="en-GB")
    context.set_default_timeout(30_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert not errors, f"JavaScript errors: {errors}"

