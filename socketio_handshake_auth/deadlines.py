"""Many deadlines, one timer.

A server keeps a deadline per connection (the connect timeout, a token's expiry). One
``loop.call_later`` each costs a push onto asyncio's timer heap, in Python comparisons, and
each cancelled one stays on the heap for a while: with tens of thousands of connections that
was a measurable part of a handshake. Here deadlines that fall in the same tick share a bucket,
and one timer, armed only while there are deadlines, visits the buckets that are due.
"""

import asyncio
import logging
import math
from collections.abc import Callable, Hashable

log = logging.getLogger("handshake.deadlines")


class Deadlines:
    """``add(key, delay)``: call ``expire(key)`` once, ``delay`` seconds from now, or up to
    ``tick`` seconds later; ``discard(key)`` first, and it is never called."""

    def __init__(self, expire: Callable[[Hashable], object], tick: float = 1.0):
        self.expire = expire
        self.tick = tick
        self._buckets: dict[int, set] = {}  # tick number -> keys due then
        self._bucket_of: dict[Hashable, int] = {}
        self._timer: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        return len(self._bucket_of)

    def add(self, key: Hashable, delay: float) -> None:
        self.discard(key)
        loop = asyncio.get_running_loop()
        now = loop.time()  # never the tick being visited: an expiry may add its key again
        number = max(math.ceil((now + delay) / self.tick), math.floor(now / self.tick) + 1)
        self._buckets.setdefault(number, set()).add(key)
        self._bucket_of[key] = number
        if self._timer is None:
            self._arm(loop)

    def discard(self, key: Hashable) -> None:
        number = self._bucket_of.pop(key, None)
        if number is not None:
            bucket = self._buckets[number]
            bucket.discard(key)
            if not bucket:
                del self._buckets[number]

    def _visit(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time() / self.tick + 1e-9  # call_at's rounding must not skip a bucket
        for number in sorted(n for n in self._buckets if n <= now):
            while self._buckets.get(number):  # an expiry may discard keys still to come
                key = next(iter(self._buckets[number]))
                self.discard(key)
                try:
                    self.expire(key)  # may add deadlines: they land in later buckets
                except Exception:  # one failure must not cancel every later deadline
                    log.exception("a deadline's expiry failed")
        self._timer = None
        if self._buckets:
            self._arm(loop)

    def _arm(self, loop: asyncio.AbstractEventLoop) -> None:
        """At the next tick boundary: a bucket is visited as soon as its time has come, so a
        deadline is never more than a tick late."""
        self._timer = loop.call_at((math.floor(loop.time() / self.tick) + 1) * self.tick,
                                   self._visit)
