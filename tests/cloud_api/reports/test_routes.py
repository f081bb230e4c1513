"""Report endpoints over the API: visibility, JSON, the printable page without assets."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cloud_api.api.app import create_app
from cloud_api.db.models import AuditRow
from cloud_api.ingest.batch import IngestBatch
from cloud_api.ingest.sinks import SqlStore
from cloud_api.settings import CloudSettings
from tests.cloud_api.factories import DEVICE
from vitals.ids import new_msg_id
from vitals.readings import Glucose


def test_reports_json_and_printable_html(engine: Engine, db_url: str) -> None:
    end = datetime(2026, 11, 25, 12, tzinfo=UTC)
    glucose = tuple(
        Glucose(msg_id=new_msg_id(end - timedelta(hours=h)), patient="demo-patient-1",
                device=DEVICE, measured_at=end - timedelta(hours=h), simulated=True,
                mg_dl=v, value_received=v, unit_received="mg/dL")
        for h, v in ((1, 60.0), (2, 100.0), (3, 200.0), (4, 120.0)))
    asyncio.run(SqlStore(engine).write(IngestBatch(end, "gw-demo-1", readings=glucose)))
    settings = CloudSettings(database_url=db_url, alerting_loops=False,
                             jwt_secret="test-secret-of-at-least-32-bytes-length")
    with TestClient(create_app(settings)) as client:
        token = client.post("/api/v1/auth/token",
                            data={"username": "demo", "password": "demo"}).json()
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        params = {"end": end.isoformat()}
        g = client.get("/api/v1/reports/demo-patient-1/glucose", headers=auth,
                       params=params).json()
        assert g["readings"] == 4 and g["tir_70_180_pct"] == 50.0
        assert g["tbr_below_70_pct"] == 25.0 and g["mean_mg_dl"] == 120.0
        assert g["gmi_pct_estimate"] == 6.18  # 3.31 + 0.02392 × 120 = 6.1804
        a = client.get("/api/v1/reports/demo-patient-1/adherence", headers=auth,
                       params=params).json()
        assert a["by_kind"] == {"glucose": {"days_with_data": 1, "share_pct": 3.3}}
        page = client.get("/api/v1/reports/demo-patient-1/report.html", headers=auth,
                          params=params)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        text = page.text
        assert "GMI (estimate, not a lab HbA1c)" in text and "6.18 %" in text
        assert "Battelino" in text and "<script" not in text and "http" not in text
        assert client.get("/api/v1/reports/other-patient/glucose",
                          headers=auth).status_code == 404
        assert client.get("/api/v1/reports/demo-patient-1/home-bp", headers=auth,
                          params={"tz": "Mars/Olympus"}).status_code == 422
    with Session(engine) as db:
        reads = db.scalars(select(AuditRow.detail).where(AuditRow.action == "report.read")).all()
    assert [r["report"] for r in reads] == ["glucose", "adherence", "html"]
