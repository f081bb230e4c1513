"""The fleet view: ``GET /api/v1/gateways[/{id}]`` lists exactly the visible gateways, with
presence from the stored status (Last Will, heartbeat age) and health; audited."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from cloud_api.alerting.presence import record_status
from cloud_api.db.access_models import DeviceRow
from cloud_api.db.directory import DEMO_PATIENT, create_patient, register_gateway
from cloud_api.db.models import AuditRow, Gateway, Patient
from tests.cloud_api.api.test_rbac_matrix import ACTORS, GATEWAY_OF, MANAGED, ROLE, VISIBLE
from tests.cloud_api.world import World
from vitals.readings import now_utc
from vitals.status import DeviceHealth, GatewayState, GatewayStatus


def beat(world: World, gateway: str, state: GatewayState = GatewayState.ONLINE, *,
         ago_s: float = 0.0, boot: str = "boot-1", depth: int = 0,
         devices: tuple[DeviceHealth, ...] = ()) -> None:
    """A status as the ingest worker would store it, received ``ago_s`` seconds ago."""
    at = now_utc() - timedelta(seconds=ago_s)
    with world.session() as db, db.begin():
        record_status(db, GatewayStatus(gateway=gateway, state=state, boot_id=boot, at=at,
                                        software="homerpm-gateway/0.1.0", config_version=2,
                                        outbox_depth=depth, devices=devices, simulated=True), at)


def test_lists_show_exactly_the_visible_gateways(api: TestClient, world: World) -> None:
    for actor in ACTORS:
        scopes = VISIBLE.get(actor, set()) | MANAGED.get(actor, set())
        r = api.get("/api/v1/gateways", headers=world.headers(actor))
        assert r.status_code == 200, actor
        assert {g["id"] for g in r.json()} == {GATEWAY_OF[s] for s in scopes}, actor
        for g in r.json():
            admin = ROLE[actor] == "org_admin"
            assert (g["credential"] is not None) == admin, (actor, g)
            assert g["status"]["presence"] == "unknown"  # nothing received yet


def test_presence_outbox_battery_and_firmware(api: TestClient, world: World) -> None:
    with world.session() as db, db.begin():
        device = DeviceRow(gateway_id="gw-demo-1", patient_id=DEMO_PATIENT,
                           kind="blood_pressure", make="Omron", model="BP7450", address=None,
                           serial="SN-1", created_at=now_utc())
        db.add(device)
        db.flush()
        device_id = str(device.id)
    cuff = DeviceHealth(device=device_id, battery_pct=41, connected=True)
    beat(world, "gw-demo-1", depth=17, devices=(cuff,), ago_s=30)
    r = api.get("/api/v1/gateways/gw-demo-1", headers=world.headers("family1"))
    assert r.status_code == 200
    g = r.json()
    assert g["patients"] == [DEMO_PATIENT] and g["credential"] is None
    s = g["status"]
    assert s["presence"] == "online" and s["offline_reason"] is None
    assert s["outbox_depth"] == 17 and s["software"] == "homerpm-gateway/0.1.0"
    assert s["config_version"] == 2 and s["offline_after_s"] == 600.0
    assert s["devices"] == [{"device": device_id, "patient_id": DEMO_PATIENT, "battery_pct": 41,
                             "connected": True, "last_reading_at": None}]
    # The Last Will (stamped at connect, i.e. earlier) takes it offline, since its arrival.
    beat(world, "gw-demo-1", GatewayState.OFFLINE, ago_s=60)
    s = api.get("/api/v1/gateways/gw-demo-1", headers=world.headers("demo")).json()["status"]
    assert s["presence"] == "offline" and s["offline_reason"] == "reported_offline"
    assert s["outbox_depth"] == 17  # the heartbeat's health, not the Will's
    # Silence: a gateway last heard 11 minutes ago is offline since then.
    beat(world, "gw-ref", ago_s=660)
    [ref] = [g for g in api.get("/api/v1/gateways", headers=world.headers("otherdoc")).json()
             if g["id"] == "gw-ref"]
    assert ref["status"]["presence"] == "offline"
    assert ref["status"]["offline_reason"] == "heartbeat_missing"
    assert ref["status"]["since"] == ref["status"]["last_seen_at"]


def test_household_gateway_shows_each_member_only_their_own(api: TestClient,
                                                            world: World) -> None:
    with world.session() as db, db.begin():
        create_patient(db, "demo-clinic", "house-2", "Second Resident")
        gateway = db.get(Gateway, "gw-demo-1")
        other = db.get(Patient, "house-2")
        assert gateway is not None and other is not None
        gateway.patients.append(other)
        mine = DeviceRow(gateway_id="gw-demo-1", patient_id=DEMO_PATIENT, kind="glucose",
                         make="Roche", model="Guide", address=None, serial="a",
                         created_at=now_utc())
        theirs = DeviceRow(gateway_id="gw-demo-1", patient_id="house-2", kind="glucose",
                           make="Roche", model="Guide", address=None, serial="b",
                           created_at=now_utc())
        db.add_all([mine, theirs])
        db.flush()
        ids = str(mine.id), str(theirs.id)
    beat(world, "gw-demo-1", devices=tuple(DeviceHealth(device=i, battery_pct=50) for i in ids))
    fam = api.get("/api/v1/gateways/gw-demo-1", headers=world.headers("family1")).json()
    assert fam["patients"] == [DEMO_PATIENT]
    assert [d["device"] for d in fam["status"]["devices"]] == [ids[0]]
    admin = api.get("/api/v1/gateways/gw-demo-1", headers=world.headers("admin1")).json()
    assert admin["patients"] == sorted([DEMO_PATIENT, "house-2"])
    assert {d["device"] for d in admin["status"]["devices"]} == set(ids)


def test_reads_and_denials_are_audited(api: TestClient, world: World) -> None:
    with world.session() as db, db.begin():
        register_gateway(db, "gw-unseen", ["other-patient"])
    assert api.get("/api/v1/gateways", headers=world.headers("family1")).status_code == 200
    assert api.get("/api/v1/gateways/gw-demo-1",
                   headers=world.headers("family1")).status_code == 200
    assert api.get("/api/v1/gateways/gw-unseen",
                   headers=world.headers("family1")).status_code == 404
    with world.session() as db:
        rows = db.scalars(select(AuditRow).where(AuditRow.actor == "family1")
                          .order_by(AuditRow.id)).all()
    assert [(r.action, r.patient_id) for r in rows] == [
        ("gateways.list", None), ("gateways.read", DEMO_PATIENT),
        ("gateways.read.denied", None)]
    assert rows[0].detail == {"gateways": ["gw-demo-1"], "patients": [DEMO_PATIENT]}
    assert rows[2].detail == {"gateway": "gw-unseen"}
