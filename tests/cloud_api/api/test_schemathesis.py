"""Property-based requests from the OpenAPI schema (schemathesis): no answer is a 5xx.

Runs in-process against the ASGI app over a seeded database, authenticated as a clinician
and as an org admin, with a bounded number of examples per operation.
"""

from __future__ import annotations

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cloud_api.world import World

EXAMPLES_PER_OPERATION = 4
# Endpoints whose response never ends (Server-Sent Events) cannot be read to the end by a
# test client; their access control is tested in tests/cloud_api/alerting/test_stream.py.
STREAMING = {"/api/v1/stream"}


def test_no_server_errors(api: TestClient, world: World) -> None:
    schema = schemathesis.openapi.from_dict(api.app.openapi())  # type: ignore[attr-defined]
    identities = {name: world.headers(name) for name in ("demo", "admin1")}
    failures: list[str] = []
    operations = 0
    statuses: list[int] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in STREAMING:
            continue
        operations += 1

        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(), who=st.sampled_from(sorted(identities)))
        def check(case: schemathesis.Case, who: str) -> None:
            kwargs = case.as_transport_kwargs(base_url="http://testserver",
                                              headers=identities[who])
            kwargs.pop("cookies", None)
            response = api.request(**kwargs)
            statuses.append(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} as {who}: "
                                f"{response.status_code} {response.text[:200]}")

        check()
    assert operations >= 40 and len(statuses) >= 2 * operations
    assert any(200 <= s < 300 for s in statuses)  # not only rejected requests
    assert not failures, "\n".join(failures)
