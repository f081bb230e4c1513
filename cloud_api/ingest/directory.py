"""A short-lived cache in front of the gateway directory (one look-up per message is the
database's busiest query otherwise).

Only found gateways are cached: a gateway registered a moment ago is seen at once. A cached
entry can miss a patient assigned since; the worker then ``forget``s it and asks again
before dead-lettering anything (see ``IngestWorker._handle``).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence

from cloud_api.db.directory import GatewayAssignment
from cloud_api.ingest.handler import GatewayDirectory

BatchLookup = Callable[[Sequence[str]], Awaitable[dict[str, GatewayAssignment]]]


class CachedDirectory:
    def __init__(self, directory: GatewayDirectory, ttl_s: float) -> None:
        self.directory = directory
        self.ttl_s = ttl_s
        self._cache: dict[str, tuple[float, GatewayAssignment]] = {}

    async def assignment(self, gateway_id: str) -> GatewayAssignment | None:
        now = time.monotonic()
        hit = self._cache.get(gateway_id)
        if hit is not None and now - hit[0] < self.ttl_s:
            return hit[1]
        found = await self.directory.assignment(gateway_id)
        if found is None:
            self._cache.pop(gateway_id, None)
        else:
            self._cache[gateway_id] = (now, found)
        return found

    async def prefetch(self, gateway_ids: Sequence[str]) -> None:
        """Look up the gateways not cached now, in one call when the directory can
        (``SqlStore.assignments_for``): a fleet connecting must not cost one look-up per
        gateway on the readings' path later."""
        now = time.monotonic()
        missing = [g for g in dict.fromkeys(gateway_ids)
                   if (hit := self._cache.get(g)) is None or now - hit[0] >= self.ttl_s]
        if not missing:
            return
        many: BatchLookup | None = getattr(self.directory, "assignments_for", None)
        if many is None:
            for gateway_id in missing:
                await self.assignment(gateway_id)
            return
        for gateway_id, found in (await many(missing)).items():
            self._cache[gateway_id] = (now, found)

    def forget(self, gateway_id: str | None) -> bool:
        """Drop a cached entry; True if there was one (so asking again may change the answer)."""
        return gateway_id is not None and self._cache.pop(gateway_id, None) is not None
