"""Fleet page latency: ``GET /api/v1/gateways`` for an org admin with N gateways.

    python -m bench.fleet_api [--quick] [--gateways N] [--requests K]

SQLite store, every gateway with a stored heartbeat (two devices with batteries), one patient
and one provisioned device each; in-process ASGI client (no network). Also a clinician whose
care team sees a tenth of the patients (the visibility filter). Last line: JSON figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from datetime import timedelta

from fastapi.testclient import TestClient
from pydantic import SecretStr

from cloud_api.alerting.presence import record_status
from cloud_api.api.app import create_app
from cloud_api.db import care
from cloud_api.db.access_models import DeviceRow
from cloud_api.db.directory import create_org, create_patient, create_user, register_gateway
from cloud_api.db.engine import make_engine, session_factory
from cloud_api.db.migrate import upgrade
from cloud_api.db.models import Role, User
from cloud_api.security import issue_token
from cloud_api.settings import CloudSettings
from vitals.readings import now_utc
from vitals.status import DeviceHealth, GatewayState, GatewayStatus

SECRET = "bench-fleet-secret-" + "x" * 32


def _seed(url: str, gateways: int) -> dict[str, str]:
    engine = make_engine(url)
    upgrade(engine)
    now = now_utc()
    with session_factory(engine).begin() as db:
        create_org(db, "bench-clinic")
        admin = create_user(db, "bench-clinic", "admin", "not used here", Role.ORG_ADMIN)
        doc = create_user(db, "bench-clinic", "doc", "not used here", Role.CLINICIAN)
        team = care.create_team(db, admin.org_id, "bench-team")
        care.add_member(db, team, doc)
        for i in range(gateways):
            patient = create_patient(db, "bench-clinic", f"p-{i:05d}", f"Patient {i}")
            register_gateway(db, f"gw-{i:05d}", [patient.id])
            db.add(DeviceRow(gateway_id=f"gw-{i:05d}", patient_id=patient.id, kind="glucose",
                             make="Roche", model="Guide", address=None, serial=f"s{i}",
                             created_at=now))
            if i % 10 == 0:
                care.add_to_panel(db, team, patient)
        db.flush()
        for i in range(gateways):
            at = now - timedelta(seconds=i % 60)
            record_status(db, GatewayStatus(
                gateway=f"gw-{i:05d}", state=GatewayState.ONLINE, boot_id="b", at=at,
                software="homerpm-gateway/0.1.0", config_version=1, outbox_depth=i % 7,
                devices=(DeviceHealth(device=str(i + 1), battery_pct=50),
                         DeviceHealth(device="x", battery_pct=80)), simulated=True), at)
        tokens = {}
        for name in ("admin", "doc"):
            user = db.query(User).filter(User.username == name).one()
            tokens[name] = issue_token(SECRET, user.id, user.role, 3600)[0]
    engine.dispose()
    return tokens


def _time(client: TestClient, token: str, requests: int) -> tuple[list[float], int]:
    headers = {"Authorization": f"Bearer {token}"}
    count = len(client.get("/api/v1/gateways", headers=headers).json())  # warm-up
    ms = []
    for _ in range(requests):
        t = time.perf_counter()
        r = client.get("/api/v1/gateways", headers=headers)
        ms.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200
    return ms, count


def _p(ms: list[float], q: float) -> float:
    return round(statistics.quantiles(ms, n=100, method="inclusive")[int(q) - 1], 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 gateways, 20 requests")
    parser.add_argument("--gateways", type=int, default=None)
    parser.add_argument("--requests", type=int, default=None)
    args = parser.parse_args(argv)
    gateways = args.gateways or (200 if args.quick else 1000)
    requests = args.requests or (20 if args.quick else 50)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/fleet.db"
        tokens = _seed(url, gateways)
        app = create_app(CloudSettings(database_url=url, jwt_secret=SecretStr(SECRET),
                                       alerting_loops=False, migrate_on_start=False))
        with TestClient(app) as client:
            admin_ms, admin_n = _time(client, tokens["admin"], requests)
            doc_ms, doc_n = _time(client, tokens["doc"], requests)
    load = round(os.getloadavg()[0], 2)
    print(f"{'caller':10} {'gateways':>9} {'p50 ms':>8} {'p99 ms':>8}")
    print(f"{'org admin':10} {admin_n:>9} {_p(admin_ms, 50):>8} {_p(admin_ms, 99):>8}")
    print(f"{'clinician':10} {doc_n:>9} {_p(doc_ms, 50):>8} {_p(doc_ms, 99):>8}")
    print(f"load average (1 min): {load}")
    print(json.dumps({"gateways": admin_n, "requests": requests,
                      "admin_list_p50_ms": _p(admin_ms, 50), "admin_list_p99_ms": _p(admin_ms, 99),
                      "clinician_gateways": doc_n, "clinician_list_p50_ms": _p(doc_ms, 50),
                      "clinician_list_p99_ms": _p(doc_ms, 99), "load_avg_1m": load}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
