"""Map domain errors (cloud_api.db.errors) to HTTP answers with a clear reason."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from cloud_api.db.errors import DomainError


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return JSONResponse({"detail": str(exc)}, status_code=exc.status)


async def _nul_in_text(request: Request, exc: Exception) -> JSONResponse:
    """PostgreSQL text cannot hold NUL; psycopg raises ValueError before the query runs.
    That is bad input (422), not a server fault. Anything else stays a 500."""
    if "NUL" in str(exc) or "\\x00" in str(exc):
        return JSONResponse({"detail": "text must not contain NUL characters"}, status_code=422)
    raise exc


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(ValueError, _nul_in_text)
