"""CachedDirectory: found gateways are cached; ``prefetch`` looks the uncached up in one call."""

from __future__ import annotations

from collections.abc import Sequence

from cloud_api.db.directory import GatewayAssignment
from cloud_api.ingest.directory import CachedDirectory

KNOWN = {g: GatewayAssignment(g, 1, frozenset({f"p-{g}"})) for g in ("gw-a", "gw-b")}


class Counting:
    def __init__(self) -> None:
        self.single: list[str] = []

    async def assignment(self, gateway_id: str) -> GatewayAssignment | None:
        self.single.append(gateway_id)
        return KNOWN.get(gateway_id)


class Batching(Counting):
    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []

    async def assignments_for(self, gateway_ids: Sequence[str]) -> dict[str, GatewayAssignment]:
        self.batches.append(list(gateway_ids))
        return {g: KNOWN[g] for g in gateway_ids if g in KNOWN}


async def test_prefetch_looks_up_the_uncached_in_one_call_and_caches_the_found() -> None:
    directory = Batching()
    cache = CachedDirectory(directory, ttl_s=30)
    assert await cache.assignment("gw-a") == KNOWN["gw-a"]
    await cache.prefetch(["gw-a", "gw-b", "gw-b", "gw-unknown"])
    assert directory.batches == [["gw-b", "gw-unknown"]]  # gw-a was cached; no duplicates
    assert await cache.assignment("gw-b") == KNOWN["gw-b"]
    assert await cache.assignment("gw-unknown") is None  # a miss is not cached: asked again
    assert directory.single == ["gw-a", "gw-unknown"]


async def test_prefetch_without_a_batch_look_up_asks_one_by_one() -> None:
    directory = Counting()
    cache = CachedDirectory(directory, ttl_s=30)
    await cache.prefetch(["gw-a", "gw-b"])
    await cache.prefetch(["gw-a", "gw-b"])
    assert directory.single == ["gw-a", "gw-b"]
