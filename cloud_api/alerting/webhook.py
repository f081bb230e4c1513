"""Webhook channel: JSON POST signed with HMAC-SHA256 over ``"<timestamp>." + body``.

Headers: ``X-HomeRPM-Timestamp`` (Unix seconds), ``X-HomeRPM-Signature: sha256=<hex>``
and ``X-HomeRPM-Delivery`` (stable across retries, for the receiver to dedupe).
Receivers check the signature with :func:`verify` and reject stale timestamps (replay).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx

from cloud_api.alerting.notify import DeliveryFailed, Notification

TIMESTAMP_HEADER = "X-HomeRPM-Timestamp"
SIGNATURE_HEADER = "X-HomeRPM-Signature"
DELIVERY_HEADER = "X-HomeRPM-Delivery"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, *,
           now: float | None = None, tolerance_s: float = 300) -> bool:
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - ts) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature)


class WebhookNotifier:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client  # owned by the caller's lifespan

    async def send(self, notification: Notification) -> None:
        body = json.dumps(notification.payload, separators=(",", ":"), sort_keys=True).encode()
        ts = int(time.time())
        headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: str(ts),
                   DELIVERY_HEADER: notification.key}
        if notification.secret:
            headers[SIGNATURE_HEADER] = sign(notification.secret, ts, body)
        try:
            response = await self._client.post(notification.address, content=body,
                                               headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 300:
            # 4xx other than 408/429 means the receiver refuses this message: don't hammer it.
            retryable = response.status_code >= 500 or response.status_code in (408, 429)
            raise DeliveryFailed(f"HTTP {response.status_code}", retryable=retryable)
