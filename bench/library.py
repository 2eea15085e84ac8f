"""The library as the apps use it, doing what the native pattern does and nothing more: the
bench's ``legacy`` and ``middleware`` servers.

Each puts one of the library's servers in front of a python-socketio server of its own
(``LegacyServer(sio)``, ``MiddlewareServer(sio)``), wired by the app's own ``wire()``: the
app's authorization functions on ``/`` and ``/admin`` (``legacy_authorization/auth.py``,
``middleware_auth/auth.py``). A ``connection`` listener does what
``examples/native``'s ``on_connect`` does once the policy said yes: it saves the identity in
python-socketio's session, then says welcome. Each is served with ``io.attach(app)`` on a bare
aiohttp app: none of the demo web app's origin guard, security headers, session cap or live
sessions. What these servers cost over the native pattern is the library's cost.
"""

import socketio
from aiohttp import web

import legacy_authorization.app
import middleware_auth.app
from shared.policy import Identity, Policy
from socketio_handshake_auth import LegacyServer, MiddlewareServer

NAMESPACES = ("/", "/admin")  # the native pattern's


# --8<-- [start:legacy]
def legacy_app(policy: Policy) -> tuple[web.Application, LegacyServer]:
    sio = socketio.AsyncServer(async_mode="aiohttp")  # the native pattern's server
    io = LegacyServer(sio)
    legacy_authorization.app.wire(io, policy)  # the app's authorization functions

    async def welcome(socket) -> None:  # 0.9: the identity is on socket.handshake
        await say_welcome(socket, Identity.from_dict(socket.handshake), "legacy")

    for namespace in NAMESPACES:
        io.of(namespace).on("connection", welcome)
    app = web.Application()
    io.attach(app)
    return app, io
# --8<-- [end:legacy]


# --8<-- [start:middleware]
def middleware_app(policy: Policy) -> tuple[web.Application, MiddlewareServer]:
    sio = socketio.AsyncServer(async_mode="aiohttp")  # the native pattern's server
    io = MiddlewareServer(sio)
    middleware_auth.app.wire(io, policy)  # the app's middlewares

    async def welcome(socket) -> None:  # 1.0+: the identity is on socket.data
        await say_welcome(socket, Identity.from_dict(socket.data), "middleware")

    for namespace in NAMESPACES:
        io.of(namespace).on("connection", welcome)
    # authenticate reads the login session with aiohttp-session's get_session(), which needs
    # its middleware on the app (the bench's clients send no session cookie: none is found)
    app = web.Application(middlewares=[policy.sessions.middleware()])
    io.attach(app)
    return app, io
# --8<-- [end:middleware]


async def say_welcome(socket, identity: Identity, server: str) -> None:
    """examples/native's ``on_connect`` after the verdict: the session, then the event."""
    await socket.sio.save_session(socket.id, identity.as_dict(), namespace=socket.nsp)
    await socket.emit("welcome", {"user": identity.user, "role": identity.role,
                                  "server": server})
