"""Live connections do not outlive their credentials.

Neither Socket.IO era re-checked a token once connected (socketio-jwt#38: "once the
connection is established the token is never verified again"). ``LiveSessions`` ends a socket
when its token expires or is revoked: it emits ``session_ended`` with a reason the client can
show, then disconnects it. The client logs in again and reconnects with a fresh token.
"""

import asyncio
import logging
import time
from collections import defaultdict

from shared.policy import REFUSALS
from socketio_handshake_auth.deadlines import Deadlines

log = logging.getLogger("handshake.sessions")


class RevocationUnavailable(Exception):
    """A revocation could not be recorded, or not announced to every node: the shared store
    is unreachable. ``POST /logout`` then answers 503: it never reports a revocation that was
    not done everywhere."""


class LiveSessions:
    """The sockets of this process, by token. ``bus``: with several processes, a revocation
    is published to all of them (``RedisRevocationBus``) and each ends its own sockets."""

    def __init__(self, bus=None):
        self.bus = bus
        self._expiries = Deadlines(lambda socket: self._end_soon(socket, "expired_token"))
        self._by_token: dict[str, dict] = defaultdict(dict)  # token id -> {socket: None}
        self._token_of: dict[object, str] = {}
        self._endings: set[asyncio.Task] = set()
        self._live: set = set()

    def __len__(self) -> int:
        return len(self._live)

    def tokens(self) -> list[str]:
        """The token ids the live sockets of this process connected with."""
        return list(self._by_token)

    # --8<-- [start:track]
    def track(self, socket, identity: dict) -> None:
        """Watch ``socket``; ``identity`` has the ``expires_at`` / ``token_id`` the policy set."""
        expires_at, token_id = identity.get("expires_at"), identity.get("token_id")
        if socket in self._live:
            self.forget(socket)  # watched once, whatever calls this
        self._live.add(socket)
        if expires_at is not None:  # ended within a second of it (exp counts in seconds)
            self._expiries.add(socket, max(0.0, expires_at - time.time()))
        if token_id:
            self._by_token[token_id][socket] = None
            self._token_of[socket] = token_id

    def forget(self, socket) -> None:
        self._live.discard(socket)
        self._expiries.discard(socket)
        token_id = self._token_of.pop(socket, None)
        if token_id is not None:
            del self._by_token[token_id][socket]
            if not self._by_token[token_id]:
                del self._by_token[token_id]

    # --8<-- [end:track]

    async def disconnected(self, socket, reason=None) -> None:
        """The ``disconnect`` listener: stop watching a socket that has gone."""
        self.forget(socket)

    async def revoke(self, token_id: str) -> None:
        """End every live socket that connected with this token: this node's at once, the
        other nodes' through the bus (``RevocationUnavailable`` if it cannot carry the news)."""
        await self.end_local(token_id)
        if self.bus:
            await self.bus.publish(token_id)

    async def end_local(self, token_id: str) -> None:
        sockets = list(self._by_token.get(token_id, ()))
        await asyncio.gather(*(self.end(socket, "revoked_token") for socket in sockets))

    async def start(self, app=None) -> None:
        if self.bus:
            await self.bus.start(self.end_local, live_tokens=self.tokens)

    async def stop(self, app=None) -> None:
        if self.bus:
            await self.bus.stop()

    # --8<-- [start:end]
    async def end(self, socket, reason: str) -> None:
        self.forget(socket)
        log.info("session ended: %s", reason, extra={"session_end": reason})
        await socket.emit("session_ended", {"reason": reason, "message": REFUSALS[reason]})
        await socket.disconnect()

    def _end_soon(self, socket, reason: str) -> None:
        task = asyncio.ensure_future(self.end(socket, reason))
        self._endings.add(task)
        task.add_done_callback(self._endings.discard)
    # --8<-- [end:end]
