"""``homerpm sim``: simulated devices, scenarios and fleets."""

from __future__ import annotations

from vitals.cli import Group

command = Group("run simulated devices, patient scenarios and gateway fleets", {})
