"""InfluxDB adapter specifics: request shapes per flavor (pinned with httpx.MockTransport, since
no 2.x/3.x server is installable here), retry/split/error handling, and a real outage."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from cloud_api.tsdb.base import SeriesPoint, StoreConfigError, StoreUnavailable
from cloud_api.tsdb.config import InfluxConfig
from cloud_api.tsdb.influx_v1 import InfluxV1Store, to_line
from firmware_sim.services import Influxd

TAGS = {"tenant": "c1", "patient": "p 1", "device": "d,1"}
POINTS = [SeriesPoint("bp", TAGS, {"systolic": 120.0 + i, "seq": i}, 1_000 + i) for i in range(6)]
Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """Answers with ``handler`` and keeps every request for inspection."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    def store(self, **config: object) -> InfluxV1Store:
        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        cfg = InfluxConfig(url="http://influx.test:8086", database="vitals", **config)  # type: ignore[arg-type]
        return InfluxV1Store(
            cfg, transport=httpx.MockTransport(self), sleep=sleep, jitter=lambda: 1.0
        )

    def lines(self, request: httpx.Request) -> list[str]:
        body = request.content
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        return body.decode().split("\n")


def ok(_: httpx.Request) -> httpx.Response:
    return httpx.Response(204)


@pytest.mark.parametrize(
    ("config", "authorization", "rp_sent"),
    [
        ({}, None, False),
        (
            {"username": "ingest", "password": "s3cret", "retention_policy": "raw"},
            "Basic aW5nZXN0OnMzY3JldA==",
            True,
        ),
        (
            {"flavor": "v2compat", "token": "tok2", "retention_policy": "autogen"},
            "Token tok2",
            True,
        ),
        ({"flavor": "v3", "token": "tok3"}, "Bearer tok3", False),
        ({"flavor": "v3", "token": "tok3", "token_scheme": "Token"}, "Token tok3", False),
    ],
)
async def test_request_shapes_per_flavor(
    config: dict[str, str], authorization: str | None, rp_sent: bool
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/query":
            return httpx.Response(200, json={"results": [{"statement_id": 0}]})
        return httpx.Response(204)

    rec = Recorder(handler)
    async with rec.store(**config) as store:
        assert (await store.write(POINTS)).ok
        await store.query_range("bp", {"patient": "p 1"}, 0, 10_000)
        assert await store.ping()

    write, *queries, ping = rec.requests
    for request in rec.requests:
        assert request.headers.get("Authorization") == authorization
    assert write.method == "POST" and write.url.path == "/write"
    params = dict(write.url.params)
    assert params == {
        "db": "vitals",
        "precision": "ms",
        **({"rp": config["retention_policy"]} if rp_sent else {}),
    }
    assert write.headers["Content-Encoding"] == "gzip"
    assert rec.lines(write) == [to_line(p) for p in POINTS]
    (select,) = [r for r in queries if r.url.params["q"].startswith("SELECT")]
    assert select.method == "GET" and select.url.path == "/query"
    assert select.url.params["epoch"] == "ms" and select.url.params["db"] == "vitals"
    assert json.loads(select.url.params["params"]) == {"t0": "p 1"}
    assert "p 1" not in select.url.params["q"]  # the value is bound, never spliced
    assert ping.url.path == "/ping"


def test_config_refuses_inconsistent_auth() -> None:
    with pytest.raises(ValidationError):
        InfluxConfig(flavor="v1", token="t")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        InfluxConfig(username="u")
    with pytest.raises(ValidationError):
        InfluxConfig(flavor="v3", token="t", retention_policy="rp")  # type: ignore[arg-type]


def test_line_protocol_is_millisecond_and_typed() -> None:
    line = to_line(SeriesPoint("bp", TAGS, {"s": 'a "q"', "i": 5, "b": True, "f": 1.5}, 1234))
    assert line == 'bp,device=d\\,1,patient=p\\ 1,tenant=c1 b=true,f=1.5,i=5i,s="a \\"q\\"" 1234'


async def test_retryable_statuses_back_off_and_honour_retry_after() -> None:
    answers = iter(
        [
            httpx.Response(503, headers={"Retry-After": "2"}, json={"error": "busy"}),
            httpx.Response(429, json={"error": "slow down"}),
            httpx.Response(500, json={"error": "engine hiccup"}),
            httpx.Response(204),
        ]
    )
    rec = Recorder(lambda _: next(answers))
    async with rec.store(max_retries=5, backoff_initial_s=0.1, backoff_max_s=10) as store:
        assert (await store.write(POINTS)).written == len(POINTS)
    assert rec.sleeps == [2.0, 0.2, 0.4]  # Retry-After, then 0.1·2^1, 0.1·2^2 (jitter pinned to 1)
    assert len(rec.requests) == 4


async def test_gives_up_as_unavailable_after_max_retries() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    rec = Recorder(refuse)
    async with rec.store(max_retries=2) as store:
        with pytest.raises(StoreUnavailable, match="unreachable"):
            await store.write(POINTS)
        assert await store.ping() is False
    assert len(rec.sleeps) == 2


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, "authorization failed"),
        (403, "forbidden"),
        (404, "database not found: vitals"),
        (500, "retention policy not found: raw"),
    ],
)
async def test_config_errors_are_fatal_not_retried(status: int, error: str) -> None:
    rec = Recorder(lambda _: httpx.Response(status, json={"error": error}))
    async with rec.store(max_retries=5) as store:
        with pytest.raises(StoreConfigError, match=error.split(":")[0]):
            await store.write(POINTS)
    assert len(rec.requests) == 1 and rec.sleeps == []


async def test_too_large_batches_are_split() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        n = len(rec.lines(request))
        return httpx.Response(413 if n > 2 else 204, json={"error": "Request Entity Too Large"})

    rec = Recorder(handler)
    async with rec.store(batch_size=5) as store:
        result = await store.write(POINTS)
    assert result.ok and result.written == 6
    stored = [line for r in rec.requests if len(rec.lines(r)) <= 2 for line in rec.lines(r)]
    assert stored == [to_line(p) for p in POINTS]


@pytest.mark.services
@pytest.mark.slow
async def test_outage_then_recovery_on_a_dedicated_influxd(tmp_path: Path) -> None:
    server = Influxd(tmp_path / "influxd").start()
    try:
        cfg = InfluxConfig(
            url=server.url, database="outage", max_retries=1, backoff_initial_s=0.05, timeout_s=2
        )
        async with InfluxV1Store(cfg) as store:
            await store.ensure_database()
            assert (await store.write(POINTS[:3])).ok

            server.stop()
            assert await store.ping() is False
            with pytest.raises(StoreUnavailable):
                await store.write(POINTS[3:])
            with pytest.raises(StoreUnavailable):
                await store.count("bp", TAGS)

            server.start()  # same port, same data directory
            assert await store.ping() is True
            assert (await store.write(POINTS[3:])).ok
            assert await store.count("bp", TAGS) == len(POINTS)
    finally:
        server.stop()
