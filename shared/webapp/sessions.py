"""Live connections do not outlive their credentials.

Neither Socket.IO era re-checked a token once connected (socketio-jwt#38: "once the
connection is established the token is never verified again"). ``LiveSessions`` does:

- ``admit()`` runs on every CONNECT, before it is acknowledged. It registers the socket for
  revocation first and checks the credential after, so a logout is either seen by the check
  or finds the socket registered: no ordering of the two leaves a connection alive.
- A socket whose token or session expires or is revoked, or whose user logs out everywhere,
  is ended: it gets ``session_ended`` with a reason the client can show, then its whole
  Engine.IO connection is closed (every namespace; a re-CONNECT on it is impossible).

A session is known here by the hash of its id (``Identity.session_id``), like a token by its
id: the session id itself is never kept, logged or published.
"""

import asyncio
import logging
import time
from collections import defaultdict

from shared.policy import REFUSALS, Identity, Policy, Refusal

log = logging.getLogger("handshake.sessions")


class LiveSessions:
    """The sockets of this process, by credential (a token's id, a session's hash) and by
    user. ``bus``: with several processes, a revocation is published to all of them
    (``RedisRevocationBus``) and each ends its own."""

    def __init__(self, policy: Policy, bus=None):
        self.policy = policy
        self.bus = bus
        self._identities: dict[object, Identity] = {}  # socket -> who it connected as
        self._by_token: dict[str, dict] = defaultdict(dict)  # credential id -> {socket: None}
        self._by_user: dict[str, dict] = defaultdict(dict)  # user -> {socket: None}
        self._expiries: dict[object, asyncio.TimerHandle] = {}
        self._endings: set[asyncio.Task] = set()

    def __len__(self) -> int:
        return len(self._identities)

    def __contains__(self, socket) -> bool:
        return socket in self._identities

    # --8<-- [start:admit]
    async def admit(self, socket, identity: Identity) -> Refusal | None:
        """On a CONNECT, before its acknowledgement: watch the socket, then check that its
        credential is still good. A refusal is returned with the socket no longer watched."""
        self.track(socket, identity)  # first: a revocation from now on finds it
        try:
            refusal = await self.policy.still_valid(identity)  # then: one made before is seen
        except Exception:  # the store is unreachable: refused, and said so
            log.warning("revocations unavailable: CONNECT refused", exc_info=True)
            refusal = Refusal("unavailable")
        if refusal is None and socket not in self:  # ended while it was checked: ask why
            refusal = await self._why_ended(identity)
        if refusal is not None:
            self.forget(socket)
        return refusal
    # --8<-- [end:admit]

    async def _why_ended(self, identity: Identity) -> Refusal:
        try:
            return await self.policy.still_valid(identity) or Refusal(identity.revoked_code)
        except Exception:
            return Refusal("unavailable")

    def track(self, socket, identity: Identity) -> None:
        self.forget(socket)  # watched once, whatever calls this
        self._identities[socket] = identity
        self._by_user[identity.user][socket] = None
        for credential_id in identity.credential_ids:  # a logout of either ends it
            self._by_token[credential_id][socket] = None
        if identity.expires_at is not None:  # ended within a second of it (exp is in seconds)
            delay = max(0.0, identity.expires_at - time.time())
            self._expiries[socket] = asyncio.get_running_loop().call_later(
                delay, self._end_soon, socket, identity.expired_code)

    def forget(self, socket) -> None:
        identity = self._identities.pop(socket, None)
        if identity is None:
            return
        if (expiry := self._expiries.pop(socket, None)) is not None:
            expiry.cancel()
        for index, key in ((self._by_user, identity.user),
                           *((self._by_token, i) for i in identity.credential_ids)):
            if key in index:
                index[key].pop(socket, None)
                if not index[key]:
                    del index[key]

    async def disconnected(self, socket, reason=None) -> None:
        """The ``disconnect`` listener: stop watching a socket that has gone."""
        self.forget(socket)

    async def revoke(self, credential_id: str) -> None:
        """End every live socket that connected with this token or session: this node's at
        once, the other nodes' through the bus (``RevocationUnavailable`` if it cannot carry
        the news)."""
        await self.end_token(credential_id)
        if self.bus:
            await self.bus.publish({"token": credential_id})

    async def revoke_user(self, user: str, before: float) -> None:
        """Log ``user`` out everywhere: end every live socket of theirs authenticated before
        ``before``, on every node."""
        await self.end_user(user, before)
        if self.bus:
            await self.bus.publish({"user": user, "before": before})

    async def end_token(self, credential_id: str) -> None:
        sockets = list(self._by_token.get(credential_id, ()))
        if sockets:
            await self._end_all(sockets, self._identities[sockets[0]].revoked_code)

    async def end_user(self, user: str, before: float) -> None:
        await self._end_all([socket for socket in self._by_user.get(user, ())
                             if (self._identities[socket].authenticated_at or 0) < before],
                            "logged_out")

    async def end_revoked(self) -> None:
        """End every live socket whose credential was revoked (what a node that lost the bus
        for a while may have missed), asking the store about all of them at once."""
        sockets = list(self._identities)
        reasons = await self.policy.revoked.ended([self._identities[s] for s in sockets])
        await asyncio.gather(*(self.end(socket, reason)
                               for socket, reason in zip(sockets, reasons, strict=True)
                               if reason))

    async def on_bus_message(self, message: dict) -> None:
        if "token" in message:
            await self.end_token(message["token"])
        elif "user" in message:
            await self.end_user(message["user"], message["before"])

    async def start(self, app=None) -> None:
        if self.bus:
            await self.bus.start(self.on_bus_message, on_subscribed=self.end_revoked)

    async def stop(self, app=None) -> None:
        if self.bus:
            await self.bus.stop()
        for expiry in self._expiries.values():
            expiry.cancel()
        for task in list(self._endings):
            task.cancel()
        await asyncio.gather(*self._endings, return_exceptions=True)

    async def _end_all(self, sockets, reason: str) -> None:
        ended = await asyncio.gather(*(self.end(socket, reason) for socket in list(sockets)),
                                     return_exceptions=True)
        for failure in (e for e in ended if isinstance(e, Exception)):  # closed all the same
            log.warning("telling a client its session ended failed: %r", failure)

    # --8<-- [start:end]
    async def end(self, socket, reason: str) -> None:
        """Tell the client why, then close its whole connection: a connection whose
        credential ended can join nothing more. The close waits (a second at most) for the
        news to reach the client, in the background: a logout does not wait for it."""
        self.forget(socket)
        log.info("session ended: %s", reason, extra={"session_end": reason})
        try:
            await socket.emit("session_ended", {"reason": reason, "message": REFUSALS[reason]})
        finally:  # the news may not reach the client; the connection closes all the same
            self.close_later(socket)

    def _end_soon(self, socket, reason: str) -> None:
        self._in_background(self.end(socket, reason))
    # --8<-- [end:end]

    def close_later(self, socket) -> None:
        """Close the socket's whole connection once this task has queued what it sends."""
        self._in_background(socket.disconnect(close=True))

    def _in_background(self, coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        self._endings.add(task)  # a reference until it is done
        task.add_done_callback(self._endings.discard)
