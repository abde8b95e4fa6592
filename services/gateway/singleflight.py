"""One load per key at a time: concurrent requests that find a cache entry expired share it.

Under load, a cached reading that expires (an account's token version every 2 s, an app
key every 30 s) was read again by every request in flight at that moment — 32 concurrent
requests, 32 queries and as many pool connections opened. Sharing the one load keeps the
freshness bound and costs one query.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any


class SingleFlight:
    def __init__(self) -> None:
        self._loads: dict[Hashable, asyncio.Task] = {}

    async def run(self, key: Hashable, load: Callable[[], Awaitable[Any]]) -> Any:
        """``load()``'s result, shared with every caller that asks for ``key`` meanwhile."""
        loop = asyncio.get_running_loop()
        task = self._loads.get(key)
        if task is None or task.get_loop() is not loop:
            task = self._loads[key] = loop.create_task(load())
            task.add_done_callback(lambda done: self._finished(key, done))
        # one caller giving up (client gone, timeout) does not cancel the others' load
        return await asyncio.shield(task)

    def forget(self, key: Hashable) -> None:
        """The thing behind ``key`` changed: the next caller starts a fresh load."""
        self._loads.pop(key, None)

    def _finished(self, key: Hashable, task: asyncio.Task) -> None:
        if self._loads.get(key) is task:
            del self._loads[key]
        if not task.cancelled():
            task.exception()  # retrieved here too: no "never retrieved" warning if all left
