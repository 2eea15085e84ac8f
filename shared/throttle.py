"""Brute-force throttling: too many failed handshakes or logins from one address, and further
attempts are refused for a while, whatever they present.

The counting lives behind ``ThrottleStore`` so that several server processes can share it
(an in-memory store here; a shared one only has to implement the same two methods).
"""

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol


class ThrottleStore(Protocol):
    async def add(self, key: str, now: float, window: float) -> None:
        """Record one failure for ``key`` at ``now``; forget those older than ``window``."""

    async def count(self, key: str, now: float, window: float) -> int:
        """How many failures ``key`` has had within ``window`` seconds before ``now``."""


@dataclass
class MemoryStore:
    """Failures per key in one process; at most ``max_keys`` addresses are remembered."""

    max_keys: int = 100_000
    failures: dict[str, deque] = field(default_factory=dict)

    async def add(self, key: str, now: float, window: float) -> None:
        if key not in self.failures and len(self.failures) >= self.max_keys:
            self._forget_stale(now, window)
        self.failures.setdefault(key, deque()).append(now)
        self._trim(key, now, window)

    async def count(self, key: str, now: float, window: float) -> int:
        self._trim(key, now, window)
        return len(self.failures.get(key, ()))

    def _trim(self, key: str, now: float, window: float) -> None:
        times = self.failures.get(key)
        while times and times[0] <= now - window:
            times.popleft()
        if times is not None and not times:
            del self.failures[key]

    def _forget_stale(self, now: float, window: float) -> None:
        for key in list(self.failures):
            self._trim(key, now, window)
        while len(self.failures) >= self.max_keys:  # still full: drop the oldest address
            self.failures.pop(next(iter(self.failures)))


@dataclass
class Throttle:
    """``limit`` failures within ``window`` seconds from one address block it for the rest
    of the window."""

    limit: int = 10
    window: float = 60.0
    store: ThrottleStore = field(default_factory=MemoryStore)
    clock: object = time.time  # wall clock: a shared store compares times across machines

    async def blocked(self, address: str) -> bool:
        return await self.store.count(address, self.clock(), self.window) >= self.limit

    async def failed(self, address: str) -> None:
        await self.store.add(address, self.clock(), self.window)
