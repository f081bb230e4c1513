"""``homerpm sim``: simulated devices, scenarios and fleets."""

from __future__ import annotations

from firmware_sim.device_cli import DeviceCommand
from firmware_sim.fleet_cli import FleetCommand
from firmware_sim.scenario_cli import ScenarioCommand
from vitals.cli import Group

command = Group(
    "run simulated devices, patient scenarios and gateway fleets",
    {"device": DeviceCommand(), "fleet": FleetCommand(), "scenario": ScenarioCommand()},
)
