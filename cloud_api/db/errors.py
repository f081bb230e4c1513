"""Domain errors raised by the db layer; the API maps each to its HTTP status."""

from __future__ import annotations


class DomainError(ValueError):
    status = 400


class NotFound(DomainError):
    """Missing, or not visible to the caller (the same answer, so existence does not leak)."""

    status = 404


class Forbidden(DomainError):
    """Visible, but the caller's role may not do this."""

    status = 403


class Conflict(DomainError):
    status = 409


class Invalid(DomainError):
    status = 422
