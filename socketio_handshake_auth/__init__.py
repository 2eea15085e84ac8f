"""Socket.IO's two answers to handshake authorization, for python-socketio.

- ``MiddlewareServer`` (Socket.IO 1.0+): ``use(fn)`` / ``of(ns).use(fn)`` middleware chains,
  ``fn(socket, next)``, refusals as ``connect_error`` with ``err.message`` and ``err.data``,
  ``socket.handshake`` and ``socket.data`` shaped as in Socket.IO 4.
- ``LegacyServer`` (Socket.IO 0.9): ``set("authorization", fn)`` on the HTTP handshake, before
  any socket exists, answered as 0.9.19 did (403 ``handshake unauthorized``, 500
  ``handshake error``), and ``of(ns).authorization(fn)``.

Both run on a server of their own or in front of an existing ``socketio.AsyncServer``, keeping
its handlers and session, under aiohttp (``attach``) or ASGI (``asgi_app``). They follow
JavaScript's truthiness where Socket.IO did, and fail closed where it crashed or hung.
"""

from socketio_handshake_auth.legacy import (
    Authorization,
    Callback,
    LegacyServer,
    SocketNamespace,
    run_authorization,
)
from socketio_handshake_auth.middleware import (
    ExtendedError,
    Middleware,
    MiddlewareNamespace,
    MiddlewareServer,
    MiddlewareSocket,
    Next,
    run_middlewares,
)
from socketio_handshake_auth.sockets import Socket

__all__ = [
    "Authorization",
    "Callback",
    "ExtendedError",
    "LegacyServer",
    "Middleware",
    "MiddlewareNamespace",
    "MiddlewareServer",
    "MiddlewareSocket",
    "Next",
    "Socket",
    "SocketNamespace",
    "run_authorization",
    "run_middlewares",
]
