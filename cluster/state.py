"""What several server processes must share, kept in Redis (``--redis URL``).

Tokens are stateless (signed): any node verifies any node's token with the shared secret. The
rest is state: password attempts (the throttle), revoked token ids, and the news that a token
was revoked (every node ends its own sockets for it). python-socketio's ``AsyncRedisManager``
carries emits between nodes.

Redis restarts. Each client retries a command once its pooled connection turns out dead
(``client_options``), a logout that cannot be recorded says so (``RevocationUnavailable``), and
the revocation listener reconnects and catches up on what it missed (``RedisRevocationBus``).
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from redis import asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError

from shared.webapp.sessions import RevocationUnavailable

log = logging.getLogger("handshake.redis")
REVOCATIONS_CHANNEL = "handshake:revocations"


# --8<-- [start:client-options]
def client_options() -> dict:
    """For every Redis client a node makes (``redis.asyncio.from_url``, ``AsyncRedisManager``'s
    ``redis_options``, ``limits``' ``RedisStorage``). After a Redis restart every pooled
    connection is dead, and ``from_url`` clients do not retry by default: the first command
    on each would fail (a 500). With ``retry`` it reconnects and runs again, up to 3 times
    (half a second in all) before the error reaches the caller."""
    return {"retry": Retry(ExponentialBackoff(cap=0.2, base=0.05), retries=3),
            "socket_connect_timeout": 2}
# --8<-- [end:client-options]


class RedisRevokedTokens:
    """Revoked token ids, each kept until the token would have expired anyway."""

    def __init__(self, redis: aioredis.Redis, prefix: str = "handshake:revoked:"):
        self.redis = redis
        self.prefix = prefix

    async def add(self, token_id: str, expires_at: float) -> None:
        """Record a revocation; ``RevocationUnavailable`` if Redis cannot take it."""
        ttl = max(1, int(expires_at - time.time()) + 1)
        try:
            await self.redis.set(self.prefix + token_id, "1", ex=ttl)
        except RedisError as exc:
            raise RevocationUnavailable("the revocation could not be recorded") from exc

    async def contains(self, token_id: str | None) -> bool:
        return token_id is not None and bool(await self.redis.exists(self.prefix + token_id))

    async def among(self, token_ids: Iterable[str]) -> list[str]:
        """Which of ``token_ids`` are revoked, in one round trip."""
        token_ids = list(token_ids)
        if not token_ids:
            return []
        found = await self.redis.mget([self.prefix + token_id for token_id in token_ids])
        return [token_id for token_id, value in zip(token_ids, found, strict=True) if value]


# --8<-- [start:bus]
class RedisRevocationBus:
    """Tells every node that a token was revoked; each ends the sockets it holds for it.

    Pub/sub keeps nothing: a node that is not subscribed when a revocation is published never
    hears of it. So the listener reconnects after losing Redis (backing off like
    python-socketio's ``AsyncRedisManager``: 1 s, 2 s, 4 s... up to 60 s), and each time its
    subscription is confirmed it catches up: it looks up the tokens of its live sockets among
    the revoked ones, which are kept in Redis."""

    def __init__(self, redis: aioredis.Redis, revoked: RedisRevokedTokens | None = None, *,
                 first_retry: float = 1.0, last_retry: float = 60.0):
        self.redis = redis
        self.revoked = revoked or RedisRevokedTokens(redis)
        self.first_retry, self.last_retry = first_retry, last_retry
        self._listener: asyncio.Task | None = None

    async def publish(self, token_id: str) -> None:
        """``RevocationUnavailable`` if the other nodes cannot be told."""
        try:
            await self.redis.publish(REVOCATIONS_CHANNEL, token_id)
        except RedisError as exc:
            raise RevocationUnavailable("the other nodes could not be told") from exc

    async def start(self, on_revoked: Callable[[str], Awaitable[None]],
                    live_tokens: Callable[[], Iterable[str]] = tuple) -> None:
        """Listen in the background: ``on_revoked(token_id)`` for each revocation, including
        those missed while disconnected among ``live_tokens()``."""
        self._listener = asyncio.create_task(self._listen(on_revoked, live_tokens))

    async def _listen(self, on_revoked, live_tokens) -> None:
        delay = self.first_retry
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(REVOCATIONS_CHANNEL)
                async for message in pubsub.listen():
                    if message["type"] == "subscribe":  # also after redis-py reconnected it
                        delay = self.first_retry
                        for token_id in await self.revoked.among(live_tokens()):
                            await self._deliver(on_revoked, token_id)
                    elif message["type"] == "message":
                        await self._deliver(on_revoked, message["data"].decode())
            except (RedisError, OSError) as exc:
                log.warning("revocations: Redis lost (%s); listening again in %g s", exc, delay)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.last_retry)

    @staticmethod
    async def _deliver(on_revoked, token_id: str) -> None:
        try:
            await on_revoked(token_id)
        except Exception:  # one socket that cannot be ended must not stop the listener
            log.exception("revocations: ending the sockets of a revoked token failed")

    async def stop(self) -> None:
        if self._listener:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
# --8<-- [end:bus]
