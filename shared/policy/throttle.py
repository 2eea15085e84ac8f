"""Password guessing is throttled; a valid signed token never is.

A password check (argon2, ~25 ms of CPU) is what a guesser needs and what a flood exhausts.
So, before it runs:

1. ``Throttle.reserve`` takes one attempt from the client address's allowance *and* from the
   account's (OWASP: throttle per account too, since a botnet has many addresses). It uses
   ``limits``' moving window, whose ``hit`` checks and counts in one atomic step, in memory or
   in Redis: a thousand concurrent guesses cannot all pass a check made before any is counted.
2. ``HashingGate`` bounds the checks in flight, per address and in total. A full gate answers
   at once (``busy``) instead of queueing: a flood cannot make a good login wait behind it.

Tokens are never throttled: an HMAC check is cheap, a forged token is not a guess that can
succeed, and a shared address (a NAT, a load balancer) must not lock out users who hold one.
"""

import asyncio
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from limits import parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter


class Throttle:
    """At most ``per_address`` and ``per_account`` password attempts, e.g. "30/minute"."""

    def __init__(self, per_address: str = "30/minute", per_account: str = "10/minute",
                 storage: Storage | None = None):
        self.per_address = parse(per_address)
        self.per_account = parse(per_account)
        self.limiter = MovingWindowRateLimiter(storage or MemoryStorage())

    @classmethod
    def shared(cls, redis_url: str, redis_options: dict | None = None, **limits) -> "Throttle":
        """One allowance for every node, kept in Redis (``redis_options``: for its client)."""
        uri = "async+" + redis_url
        storage = RedisStorage(uri, implementation="redispy", **(redis_options or {}))
        return cls(storage=storage, **limits)

    async def reserve(self, address: str, account: str) -> bool:
        """Take one attempt for both; False when either has none left (nothing is checked)."""
        return (await self.limiter.hit(self.per_account, "account", account)
                and await self.limiter.hit(self.per_address, "address", address))


class GateFull(Exception):
    """Too many password checks in flight: refuse now rather than queue."""


class HashingGate:
    """Runs password checks on a few threads, never on the event loop, with at most
    ``per_address`` in flight for one address and ``in_flight`` in all."""

    def __init__(self, *, workers: int | None = None, in_flight: int = 16,
                 per_address: int = 2):
        # One core is left to the event loop: with as many hashing threads as cores, 50
        # concurrent logins starve it (measured: 40 ms of lag).
        self.workers = workers or max(1, (os.cpu_count() or 2) - 1)
        self.limit, self.limit_per_address = in_flight, per_address
        self.running: Counter[str] = Counter()
        self._executor: ThreadPoolExecutor | None = None

    async def run(self, address: str, check, *args):
        """``check(*args)`` on a hashing thread; ``GateFull`` at once if the gate is full."""
        if sum(self.running.values()) >= self.limit or (
                self.running[address] >= self.limit_per_address):
            raise GateFull
        if self._executor is None:  # created on first use: no threads at import time
            self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="argon2")
        self.running[address] += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, check, *args)
        finally:
            self.running[address] -= 1
            if not self.running[address]:
                del self.running[address]
