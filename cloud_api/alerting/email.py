"""E-mail channel over SMTP (stdlib smtplib in a worker thread).

Messages name the patient by pseudonym only and link to the dashboard: e-mail is not a
safe place for names or values.
"""

from __future__ import annotations

import asyncio
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from cloud_api.alerting.notify import DeliveryFailed, Notification


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int = 25
    sender: str = "homerpm@localhost"
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout_s: float = 10.0


def render(notification: Notification, sender: str) -> EmailMessage:
    p = notification.payload
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = notification.address
    sim = "[SIMULATED] " if p.get("simulated") else ""
    msg["Subject"] = f"{sim}[{p.get('severity', '?')}] {p.get('event')}: {p.get('title')}"
    msg["Message-ID"] = f"<{notification.key.replace(':', '.')}@homerpm>"
    msg.set_content(
        f"Alert {p.get('alert_id')} for patient {p.get('patient_id')} was {p.get('event')}.\n"
        f"Severity: {p.get('severity')}\nTier: {p.get('tier')}\n"
        f"Why: {p.get('why', {}).get('explanation')}\n\n"
        "HomeRPM reports measurements and the limits they crossed; it does not diagnose.\n"
    )
    return msg


class SmtpNotifier:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    async def send(self, notification: Notification) -> None:
        await asyncio.to_thread(self._send, render(notification, self.config.sender))

    def _send(self, msg: EmailMessage) -> None:
        c = self.config
        try:
            with smtplib.SMTP(c.host, c.port, timeout=c.timeout_s) as smtp:
                if c.starttls:
                    smtp.starttls()
                if c.username:
                    smtp.login(c.username, c.password or "")
                smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryFailed(f"recipient refused: {exc}", retryable=False) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
