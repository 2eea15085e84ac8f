"""What happens to each connection of the shared app, whichever era's engine runs it: every
CONNECT checked again against revocation before it is acknowledged, a room per user, the
``handshake`` acknowledgement, and a cap on open sessions per address."""

import logging
from collections import Counter

import socketio

from shared.policy import Identity, Policy
from shared.webapp.redaction import redacted
from shared.webapp.sessions import LiveSessions
from socketio_handshake_auth.http import node_headers, request_of
from socketio_handshake_auth.integration import open_session
from socketio_handshake_auth.legacy import LegacyServer
from socketio_handshake_auth.refusals import HttpRefusal, refuse_with

log = logging.getLogger("handshake.web")


def identity_of(socket) -> Identity:
    """Who connected: 1.0+ keeps it on socket.data, 0.9 on socket.handshake."""
    return Identity.from_dict(getattr(socket, "data", None) or socket.handshake)


# --8<-- [start:admission]
def admission(io, namespace: str, sessions: LiveSessions):
    """python-socketio's ``connect`` handler for ``namespace``: it runs after the era's
    authorization and before the CONNECT is acknowledged. In both eras, a CONNECT whose
    credential has ended since the handshake (expired, revoked, its user logged out
    everywhere) is refused. In 0.9's, the handshake carried that credential, so the whole
    connection is closed too; a 1.0+ connection holds none until a CONNECT, and stays open
    for another one, as after a middleware's refusal."""
    closes = isinstance(io, LegacyServer)

    async def connect(sid, environ, auth=None):
        socket = io.socket(sid, namespace)
        refusal = await sessions.admit(socket, identity_of(socket))
        if refusal is None and open_session(io.sio, socket.eio_sid):
            return True
        sessions.forget(socket)
        if refusal is None:  # the client left while it was checked: nothing to answer
            return False
        if closes:  # once the refusal below is queued: this task does not yield before that
            sessions.close_later(socket)
        raise socketio.exceptions.ConnectionRefusedError(refusal.message,
                                                         {"code": refusal.code})

    return connect
# --8<-- [end:admission]


async def join_user_room(socket) -> None:
    """Emits to ``user:<name>`` reach the user's sockets on any node."""
    await socket.enter_room(f"user:{identity_of(socket).user}")


def cap_sessions_per_address(io, policy: Policy) -> None:
    """At most ``policy.max_sessions_per_address`` open Engine.IO sessions per client address
    (behind a trusted proxy, the forwarded one): a new handshake beyond that gets 429, before
    it is authorized.

    It runs where python-engineio opens a session (its connect handler), which no handshake
    gets past, and costs the requests that are not handshakes nothing. A handshake counts from
    the moment it arrives, not once authorized: concurrent ones cannot slip past."""
    limit = policy.max_sessions_per_address
    open_by_address: Counter[str] = Counter()
    address_of: dict[str, str] = {}
    eio = io.sio.eio
    on_connect, on_disconnect = eio.handlers["connect"], eio.handlers["disconnect"]

    def release(eio_sid):
        address = address_of.pop(eio_sid, None)
        if address is not None:
            open_by_address[address] -= 1
            if not open_by_address[address]:
                del open_by_address[address]

    async def connect(eio_sid, environ):
        request = request_of(environ)
        address = policy.client(request.remote, node_headers(request))
        if open_by_address[address] >= limit:
            log.info("refused a connection: %d open from one address", limit,
                     extra={"refusal": "too_many_sessions"})
            refuse_with(environ, HttpRefusal(429, "too many open connections"))
            return False
        open_by_address[address] += 1
        address_of[eio_sid] = address
        try:
            result = await on_connect(eio_sid, environ)
        except BaseException:
            release(eio_sid)
            raise
        if result is not None and result is not True:  # refused, as python-engineio reads
            release(eio_sid)  # it: the session is dropped, and no disconnect follows
        return result

    async def disconnect(eio_sid, reason):
        release(eio_sid)
        return await on_disconnect(eio_sid, reason)

    eio.on("connect", connect)
    eio.on("disconnect", disconnect)


async def show_handshake(socket, *args):
    """The ``handshake`` event: what the server keeps for this socket, secrets hidden."""
    return redacted(socket.handshake)
