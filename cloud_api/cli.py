"""``homerpm cloud``: the cloud services."""

from __future__ import annotations

from vitals.cli import Group

command = Group("run cloud services: MQTT ingest workers and the clinician API", {})
