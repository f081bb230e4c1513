"""Gateway status: the retained presence message and the periodic heartbeat."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from vitals.readings import Frozen, UtcDatetime


class GatewayState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class DeviceHealth(Frozen):
    device: str
    last_reading_at: UtcDatetime | None = None
    battery_pct: int | None = Field(default=None, ge=0, le=100)
    connected: bool = False


class GatewayStatus(Frozen):
    gateway: str
    state: GatewayState
    boot_id: str = Field(description="changes on every start; lets consumers drop stale offlines")
    at: UtcDatetime
    software: str = ""
    config_version: int | None = None
    outbox_depth: int | None = Field(default=None, ge=0)
    outbox_bytes: int | None = Field(default=None, ge=0)
    evicted_total: int = Field(default=0, ge=0)
    adapter: str | None = Field(default=None, description="Bluetooth adapter state")
    cpu_temp_c: float | None = None
    disk_free_mb: float | None = None
    devices: tuple[DeviceHealth, ...] = ()
    simulated: bool = False
