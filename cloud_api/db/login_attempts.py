"""Recent logins of a (username, client) pair, read from the audit log.

The login throttle counts these instead of an in-process counter, so every API replica
(``homerpm cloud api --workers N``, or several hosts) enforces one shared limit: a failed
login is committed to ``audit_log`` before its 401 is sent.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cloud_api.db.models import AuditRow
from cloud_api.security import LoginAttempt

_LOGINS = ("login", "login.failed")


def recent_login_attempts(
    db: Session, username: str, client: str, now: datetime, window_s: float
) -> list[LoginAttempt]:
    """The pair's attempts of the last ``window_s``, newest first. Usernames match without
    case (``Alice`` and ``alice`` share a count), as the audit log keeps them as typed."""
    rows = db.execute(
        select(AuditRow.at, AuditRow.action, AuditRow.detail)
        .where(AuditRow.at > now - timedelta(seconds=window_s),
               AuditRow.action.in_(_LOGINS),
               func.lower(AuditRow.actor) == username[:64].lower())
        .order_by(AuditRow.id.desc())
    )
    return [LoginAttempt(at, action == "login") for at, action, detail in rows
            if detail.get("client") == client]
