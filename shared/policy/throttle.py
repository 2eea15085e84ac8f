"""Password guessing is throttled; a valid signed token never is.

A password check (argon2, ~25 ms of CPU) is what a guesser needs and what a flood exhausts.
So, around it:

1. ``Throttle`` keeps two allowances of wrong passwords, per client address and per account
   (OWASP: throttle per account too, since a botnet has many addresses), in ``limits``'
   moving window, in memory or in Redis. A check runs only while both have attempts left
   (``allows``), and only a wrong password is charged, to both (``failed``). So an attempt
   the throttle refuses costs nobody anything: an address over its own allowance cannot spend
   an account's (it would lock the account's owner out), and a good login spends nothing.
2. ``HashingGate`` bounds the checks in flight, per address, per account and in total. A full
   gate answers at once (``busy``) instead of queueing: a flood cannot make a good login wait
   behind it. It also bounds what concurrency can add to an allowance: a check holds its place
   until it has been charged, so at most ``per_address - 1`` (or ``per_account - 1``) checks
   beyond an allowance can be in flight on one node when it runs out.

What remains is the lock-out the allowance is for: ``per_account`` wrong passwords a minute,
from anywhere, make that account's password logins wait out the window. Tokens and the
sessions already open keep working (docs/reference/security.md).

Tokens are never throttled: an HMAC check is cheap, a forged token is not a guess that can
succeed, and a shared address (a NAT, a load balancer) must not lock out users who hold one.
"""

import asyncio
import contextlib
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from limits import parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter


class Throttle:
    """At most ``per_address`` and ``per_account`` wrong passwords, e.g. "30/minute"."""

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

    async def allows(self, address: str, account: str) -> bool:
        """Have both attempts left? Spends nothing; the address is asked first, so an address
        over its allowance learns nothing about the account."""
        return (await self.limiter.test(self.per_address, "address", address)
                and await self.limiter.test(self.per_account, "account", account))

    async def failed(self, address: str, account: str) -> None:
        """A wrong password: charged to both."""
        await self.limiter.hit(self.per_address, "address", address)
        await self.limiter.hit(self.per_account, "account", account)


class GateFull(Exception):
    """Too many password checks in flight: refuse now rather than queue."""


class HashingGate:
    """Runs password checks on a few threads, never on the event loop, with at most
    ``per_address`` in flight for one address, ``per_account`` for one account and
    ``in_flight`` in all."""

    def __init__(self, *, workers: int | None = None, in_flight: int = 16,
                 per_address: int = 2, per_account: int = 2):
        # One core is left to the event loop: with as many hashing threads as cores, 50
        # concurrent logins starve it (measured: 40 ms of lag).
        self.workers = workers or max(1, (os.cpu_count() or 2) - 1)
        self.limit, self.limit_per_address = in_flight, per_address
        self.limit_per_account = per_account
        self.running: Counter[str] = Counter()  # per address, in flight
        self.checking: Counter[str] = Counter()  # per account, in flight
        self._executor: ThreadPoolExecutor | None = None

    @contextlib.asynccontextmanager
    async def slot(self, address: str, account: str):
        """A place in the gate for one check of ``account`` from ``address``, held until the
        block ends (its charge to the throttle included); ``GateFull`` at once if none."""
        if (self.running.total() >= self.limit
                or self.running[address] >= self.limit_per_address
                or self.checking[account] >= self.limit_per_account):
            raise GateFull
        self.running[address] += 1
        self.checking[account] += 1
        try:
            yield
        finally:
            for counter, key in ((self.running, address), (self.checking, account)):
                counter[key] -= 1
                if not counter[key]:
                    del counter[key]

    async def run(self, check, *args):
        """``check(*args)`` on a hashing thread."""
        if self._executor is None:  # created on first use: no threads at import time
            self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="argon2")
        return await asyncio.get_running_loop().run_in_executor(self._executor, check, *args)
