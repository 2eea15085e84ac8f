"""What several server processes must share, kept in Redis (``--redis URL``).

Tokens are stateless (signed): any node verifies any node's token with the shared secret. The
rest is state: failed attempts (the throttle), revoked token ids, and the news that a token was
revoked (every node ends its own sockets for it). python-socketio's ``AsyncRedisManager``
carries emits between nodes.
"""

import asyncio
import logging
import time

from redis import asyncio as aioredis

log = logging.getLogger("handshake.redis")
REVOCATIONS_CHANNEL = "handshake:revocations"


# --8<-- [start:throttle-store]
class RedisThrottleStore:
    """The throttle's failures per address, as a sorted set of timestamps per key."""

    def __init__(self, redis: aioredis.Redis, prefix: str = "handshake:failures:"):
        self.redis = redis
        self.prefix = prefix

    async def add(self, key: str, now: float, window: float) -> None:
        name = self.prefix + key
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(name, {f"{now}:{id(pipe)}:{time.perf_counter_ns()}": now})
            pipe.zremrangebyscore(name, "-inf", now - window)
            pipe.expire(name, int(window) + 1)
            await pipe.execute()

    async def count(self, key: str, now: float, window: float) -> int:
        return await self.redis.zcount(self.prefix + key, f"({now - window}", "+inf")
# --8<-- [end:throttle-store]


class RedisRevokedTokens:
    """Revoked token ids, each kept until the token would have expired anyway."""

    def __init__(self, redis: aioredis.Redis, prefix: str = "handshake:revoked:"):
        self.redis = redis
        self.prefix = prefix

    async def add(self, token_id: str, expires_at: float) -> None:
        ttl = max(1, int(expires_at - time.time()) + 1)
        await self.redis.set(self.prefix + token_id, "1", ex=ttl)

    async def contains(self, token_id: str | None) -> bool:
        return token_id is not None and bool(await self.redis.exists(self.prefix + token_id))


class RedisRevocationBus:
    """Tells every node that a token was revoked; each ends the sockets it holds for it."""

    def __init__(self, redis: aioredis.Redis):
        self.redis = redis
        self._listener: asyncio.Task | None = None

    async def publish(self, token_id: str) -> None:
        await self.redis.publish(REVOCATIONS_CHANNEL, token_id)

    async def start(self, on_revoked) -> None:
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(REVOCATIONS_CHANNEL)

        async def listen():
            async for message in pubsub.listen():
                if message["type"] == "message":
                    await on_revoked(message["data"].decode())

        self._listener = asyncio.create_task(listen())
        self._pubsub = pubsub

    async def stop(self) -> None:
        if self._listener:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
            await self._pubsub.aclose()
