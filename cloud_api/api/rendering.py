"""Pre-serialised JSON for the hot reads (a patient's trend, the alert inbox, the patient list).

Those handlers build plain dicts with the response model's fields in its order and return
these bytes instead of a model: validating and re-serialising 100–200 response models per
request cost more CPU than the query behind them. ``pydantic_core.to_json`` is the
serialiser behind FastAPI's ``response_model`` output, so datetimes, floats and non-ASCII
text come out byte for byte the same (tests/cloud_api/api/test_rendering.py checks bodies
against the models). The routes keep ``response_model=`` for the OpenAPI schema and docs.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response
from pydantic_core import to_json


def dump(content: Any) -> bytes:
    """JSON as FastAPI would send it for a response model of the same shape."""
    return to_json(content)


def json_response(body: bytes) -> Response:
    return Response(body, media_type="application/json")
