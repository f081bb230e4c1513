"""The API's broker-facing background work: retry pending config pushes."""

from __future__ import annotations

import logging

import anyio
from fastapi import FastAPI

from cloud_api.broker.config_push import ConfigPublisher, MqttConfigPublisher, retry_pending
from cloud_api.ingest.config import parse_broker_url
from cloud_api.settings import CloudSettings

log = logging.getLogger(__name__)


def make_config_publisher(settings: CloudSettings) -> ConfigPublisher | None:
    if not settings.config_mqtt_url:
        return None
    return MqttConfigPublisher(parse_broker_url(settings.config_mqtt_url))


async def config_retry_loop(app: FastAPI, interval_s: float) -> None:
    """Every ``interval_s``: publish configs still pending (broker was down, or unset)."""
    while True:
        await anyio.sleep(interval_s)
        try:
            await retry_pending(app.state.sessions, app.state.config_publisher)
        except Exception:  # a retry must never kill the API; it runs again next interval
            log.exception("config push retry failed")
