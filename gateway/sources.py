"""Build the configured device sources (placeholder until the codecs land)."""

from __future__ import annotations

from gateway.config import GatewayConfig
from gateway.devices import DeviceSource


def build_sources(cfg: GatewayConfig) -> list[DeviceSource]:
    return []
