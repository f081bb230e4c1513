"""``homerpm cloud``: the cloud services and their provisioning commands."""

from __future__ import annotations

from cloud_api.admin_cli import (
    CreateOrg,
    CreatePatient,
    CreateUser,
    Migrate,
    RegisterGateway,
    SeedDemo,
)
from cloud_api.alerting.cli import AlertingCommand
from cloud_api.api.serve import ApiCommand
from cloud_api.ingest.main import IngestCommand
from vitals.cli import Group

command = Group(
    "run cloud services: MQTT ingest workers and the clinician API",
    {
        "ingest": IngestCommand(),
        "api": ApiCommand(),
        "alerting": AlertingCommand(),
        "migrate": Migrate(),
        "create-org": CreateOrg(),
        "create-user": CreateUser(),
        "create-patient": CreatePatient(),
        "register-gateway": RegisterGateway(),
        "seed-demo": SeedDemo(),
    },
)
