"""What several server processes must share, kept in Redis (``--redis URL``).

Tokens are stateless (signed): any node verifies any node's token with the shared secret. The
rest is state: wrong-password counts (the throttle), revoked token ids and "logged out
everywhere" times, and the news of each (every node ends its own sockets for it).
python-socketio's ``AsyncRedisManager`` carries emits between nodes.

Redis restarts. Each client retries a command once its pooled connection turns out dead
(``client_options``), a logout that cannot be recorded says so (``RevocationUnavailable``), and
the revocation listener reconnects and catches up on what it missed (``RedisRevocationBus``).
"""

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable

from redis import asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError

from shared.policy.decision import Identity, RevocationUnavailable, why_ended

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
    """``shared.policy.RevokedTokens`` in Redis: revoked token ids and session hashes, and per
    user the time before which every authentication is ended ("log out everywhere"); each key
    expires when what it ends would have expired anyway."""

    def __init__(self, redis: aioredis.Redis, prefix: str = "handshake:revoked:"):
        self.redis = redis
        self.prefix = prefix

    async def add(self, credential_id: str, expires_at: float) -> None:
        """Record a revocation (a token's id, a session's hash); ``RevocationUnavailable`` if
        Redis cannot take it."""
        await self._set(self.prefix + credential_id, "1", expires_at)

    async def add_user(self, user: str, before: float, keep_until: float) -> None:
        await self._set(f"{self.prefix}user:{user}", repr(before), keep_until)

    async def _set(self, key: str, value: str, until: float) -> None:
        try:
            await self.redis.set(key, value, ex=max(1, int(until - time.time()) + 1))
        except RedisError as exc:
            raise RevocationUnavailable("the revocation could not be recorded") from exc

    async def logged_out_before(self, user: str) -> float | None:
        try:
            before = await self.redis.get(f"{self.prefix}user:{user}")
        except RedisError as exc:
            raise RevocationUnavailable("the cut-off could not be read") from exc
        return float(before) if before is not None else None

    async def ended(self, identities: list[Identity]) -> list[str | None]:
        """For each identity, why it has been ended, or None: one round trip for all."""
        if not identities:
            return []
        keys = [key for identity in identities
                for key in (f"{self.prefix}user:{identity.user}",
                            *(self.prefix + i for i in identity.credential_ids))]
        try:
            found = iter(await self.redis.mget(keys))
        except RedisError as exc:
            raise RevocationUnavailable("revocations could not be read") from exc
        answers = []
        for identity in identities:  # in the order the keys were asked
            before = next(found)
            revoked = [next(found) for _ in identity.credential_ids]
            answers.append(why_ended(identity, any(r is not None for r in revoked),
                                     float(before) if before is not None else None))
        return answers


# --8<-- [start:bus]
class RedisRevocationBus:
    """Tells every node that a token was revoked, or a user logged out everywhere; each node
    ends the sockets it holds for it.

    Pub/sub keeps nothing: a node that is not subscribed when a revocation is published never
    hears of it. So the listener reconnects after losing Redis, every ``retry`` seconds and
    never less often (python-socketio's ``AsyncRedisManager`` backs off up to a minute, which
    for this news would leave a revoked connection alive that long after Redis is back), and
    each time its subscription is confirmed it catches up (``on_subscribed``): the node looks
    up the credentials of its live sockets among the revoked ones, which are kept in Redis."""

    def __init__(self, redis: aioredis.Redis, *, retry: float = 1.0):
        self.redis = redis
        self.retry = retry
        self._listener: asyncio.Task | None = None

    async def publish(self, message: dict) -> None:
        """``RevocationUnavailable`` if the other nodes cannot be told."""
        try:
            await self.redis.publish(REVOCATIONS_CHANNEL, json.dumps(message))
        except RedisError as exc:
            raise RevocationUnavailable("the other nodes could not be told") from exc

    async def start(self, on_message: Callable[[dict], Awaitable[None]],
                    on_subscribed: Callable[[], Awaitable[None]]) -> None:
        """Listen in the background: ``on_message(message)`` for each revocation, and
        ``on_subscribed()`` each time the subscription is (again) in place."""
        self._listener = asyncio.create_task(self._listen(on_message, on_subscribed))

    async def _listen(self, on_message, on_subscribed) -> None:
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(REVOCATIONS_CHANNEL)
                async for message in pubsub.listen():
                    if message["type"] == "subscribe":  # also after redis-py reconnected it
                        await self._deliver(on_subscribed)
                    elif message["type"] == "message":
                        try:
                            news = json.loads(message["data"])
                        except ValueError:  # not ours: ignored, and the listener goes on
                            log.warning("revocations: a message that is not JSON, ignored")
                            continue
                        await self._deliver(on_message, news)
            except (RedisError, OSError, RevocationUnavailable) as exc:
                log.warning("revocations: Redis lost (%s); listening again in %g s", exc,
                            self.retry)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()
            await asyncio.sleep(self.retry)

    @staticmethod
    async def _deliver(handler, *args) -> None:
        try:
            await handler(*args)
        except (RedisError, OSError, RevocationUnavailable):
            raise  # the connection is lost: listen again
        except Exception:  # one socket that cannot be ended must not stop the listener
            log.exception("revocations: ending the sockets of a revoked credential failed")

    async def stop(self) -> None:
        if self._listener:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
# --8<-- [end:bus]
