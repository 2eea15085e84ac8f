"""The Socket.IO 1.0+ (v4 semantics) middleware chain, built on python-socketio + aiohttp.

python-socketio has no ``use()``: it has one ``connect`` handler per namespace. This engine
runs, inside that handler, the namespace's middlewares in registration order, each as
``fn(socket, next)``; the first ``next(err)`` ends the chain and becomes the client's
``connect_error`` with ``err.message`` and ``err.data``, exactly as in Socket.IO 4.
"""

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import socketio

from socketio_handshake_auth.engine import Engine
from socketio_handshake_auth.http import (
    HttpRequest,
    engine_io_query,
    epoch_ms,
    js_date_string,
    node_headers,
    request_of,
)
from socketio_handshake_auth.javascript import MISSING, js_property, js_truthy
from socketio_handshake_auth.sockets import Namespace, Socket
from socketio_handshake_auth.timeouts import within

log = logging.getLogger("handshake.middleware")

INTERNAL_ERROR = "Authorization failed"


def handshake_of(request: HttpRequest, auth) -> dict:
    """v4's ``socket.handshake``, from the first HTTP request of the connection."""
    return {
        "headers": node_headers(request),
        "time": js_date_string(),
        "address": request.remote,
        "xdomain": request.header("origin") is not None,
        "secure": request.secure,
        "issued": epoch_ms(),
        "url": request.url,
        "query": engine_io_query(request),
        "auth": auth or {},
    }


class MiddlewareSocket(Socket):
    """A v4 server socket: ``handshake``, ``data`` for what middlewares learn, and ``request``
    (the first HTTP request of the connection, as ``socket.request`` in Socket.IO).

    ``aiohttp_request``: that same request as aiohttp's ``web.Request``, which the app's
    aiohttp middlewares have seen, as Socket.IO 4's ``socket.request`` has been through
    ``io.engine.use(…)``'s: aiohttp-session's ``await get_session(socket.aiohttp_request)`` is
    ``socket.request.session``. None under ASGI, where there is no aiohttp request, nor
    aiohttp middleware to read a session with."""

    def __init__(self, sio, sid, nsp, handshake, request, aiohttp_request=None):
        super().__init__(sio, sid, nsp, handshake)
        self.data: dict = {}
        self.request = request
        self.aiohttp_request = aiohttp_request

    @property
    def connected(self) -> bool:
        """Socket.IO 4's ``socket.connected``: false while its middlewares run, true once the
        CONNECT is acknowledged, false again once it has left."""
        return self.sio.manager.is_connected(self.id, self.nsp)


class ExtendedError(Exception):
    """Socket.IO 4's ``ExtendedError``, an ``Error`` with ``data``: ``next(ExtendedError(message,
    data))`` gives the client's ``connect_error`` ``err.message`` and ``err.data``. Without
    ``data``, none is sent, as for an ``Error`` whose ``data`` is ``undefined``."""

    data: Any  # declared, not set: absent unless given, as JavaScript's undefined

    def __init__(self, message: str, data: Any = MISSING):
        super().__init__(message)
        if data is not MISSING:
            self.data = data


def connect_error(err) -> socketio.exceptions.ConnectionRefusedError:
    """What ``next(err)`` sends: Socket.IO 4 sends ``{message: err.message, data: err.data}``,
    and JSON leaves out what is ``undefined``. So an exception gives its message, a dict its
    ``message`` and ``data`` keys, and a string or a number gives ``{}`` (the client's
    ``err.message`` is then ``""``); ``data = None`` is sent as ``null``."""
    payload = {name: value for name in ("message", "data")
               if (value := js_property(err, name)) is not MISSING}
    refusal = socketio.exceptions.ConnectionRefusedError()
    refusal.error_args = payload  # python-socketio sends this as the CONNECT_ERROR payload
    return refusal


async def run_middlewares(fns, socket, timeout: float):
    """Run ``fn(socket, next)`` for each, in order; return the first error, or None.

    ``next(err)`` is an error when JavaScript calls ``err`` truthy (``{}`` and ``[]`` are).
    Fails closed where Socket.IO crashes, hangs or connects twice: a middleware that raises
    is an error, one that does not call ``next`` within ``timeout`` seconds (for the whole
    chain) is an error, and a second call of ``next`` is ignored.
    """
    return await within(_chain(fns, socket), timeout)


async def _chain(fns, socket):
    for fn in fns:
        called = asyncio.get_running_loop().create_future()

        def next(err=None, *ignored, called=called):  # the name Socket.IO gives it
            if not called.done():
                called.set_result(err)

        result = fn(socket, next)
        if inspect.isawaitable(result):
            await result
        err = await called
        if js_truthy(err):
            return err
    return None


# ``next(err=None)``: no error, or a falsy one in JavaScript's terms, lets the chain go on;
# an ``ExtendedError`` (or anything JavaScript calls truthy) refuses.
Next = Callable[..., None]
# ``fn(socket, next)``, plain or ``async``: Socket.IO's middleware signature.
Middleware = Callable[["MiddlewareSocket", Next], Awaitable[None] | None]


class MiddlewareNamespace(Namespace):
    """``io.of(name)``: each namespace has its own middleware list."""

    def __init__(self, sio: socketio.AsyncServer, name: str):
        super().__init__(sio, name)
        self.fns: list[Middleware] = []

    def use(self, fn: Middleware) -> "MiddlewareNamespace":
        self.fns.append(fn)
        return self


class MiddlewareServer(Engine[MiddlewareNamespace]):
    """v4's ``Server``, reduced to what authorization needs: ``use``, ``of``, the chain.

    ``MiddlewareServer()`` builds its own python-socketio server; ``MiddlewareServer(sio)``
    runs the chains on yours, before your own ``connect`` handlers, keeping your session.
    """

    namespace_class = MiddlewareNamespace

    def __init__(self, sio: socketio.AsyncServer | None = None, *, path: str = "socket.io",
                 middleware_timeout: float = 10.0, jsonp: bool = False,
                 connect_timeout: float = 45.0, **sio_options):
        super().__init__(sio, path=path, jsonp=jsonp, connect_timeout=connect_timeout,
                         sio_options=sio_options)
        self.middleware_timeout = middleware_timeout
        self.sockets = self.of("/")

    def use(self, fn: Middleware) -> "MiddlewareServer":
        """``io.use(fn)`` is the main namespace's: it does not run for a client of ``/admin``."""
        self.sockets.use(fn)
        return self

    def socket(self, sid: str, namespace: str = "/") -> MiddlewareSocket | None:
        """The ``MiddlewareSocket`` a connected ``sid`` has in ``namespace``: its ``handshake``
        and the ``data`` its middlewares filled, for your own handlers."""
        found = super().socket(sid, namespace)
        return found if isinstance(found, MiddlewareSocket) else None

    def on(self, event: str, listener) -> "MiddlewareServer":
        self.sockets.on(event, listener)
        return self

    def unguarded_namespaces(self) -> list[str]:
        """The namespaces the server serves (a handler, a namespace class) with no middleware:
        anyone may join them, as in Socket.IO. Each is logged as a warning when the server is
        served (``attach``, ``asgi_app``)."""
        served = (set(self.sio.handlers) | set(self.sio.namespace_handlers)) - {"*"}
        return sorted(name for name in served
                      if name not in self.namespaces or not self.namespaces[name].fns)

    def attach(self, app) -> None:
        self._warn_unguarded()
        super().attach(app)

    def asgi_app(self, other_asgi_app=None, **options):
        self._warn_unguarded()
        return super().asgi_app(other_asgi_app, **options)

    def _warn_unguarded(self) -> None:
        for name in self.unguarded_namespaces():
            log.warning("namespace %s is served with no middleware: anyone may join it", name)

    # --8<-- [start:chain]
    async def _join(self, namespace: MiddlewareNamespace, sid: str, environ: dict, auth=None):
        """The client's CONNECT for one namespace: build the socket, run the chain."""
        request = request_of(environ)
        socket = MiddlewareSocket(self.sio, sid, namespace.name, handshake_of(request, auth),
                                  request, environ.get("aiohttp.request"))
        try:
            err = await run_middlewares(namespace.fns, socket, self.middleware_timeout)
        except TimeoutError:
            log.warning("middleware chain of %s did not call next() in time", namespace.name)
            raise socketio.exceptions.ConnectionRefusedError(INTERNAL_ERROR) from None
        except Exception:  # CancelledInside too: its own cancellation is its error
            log.exception("middleware of %s raised", namespace.name)
            raise socketio.exceptions.ConnectionRefusedError(INTERNAL_ERROR) from None
        if err is not None:
            raise connect_error(err)
        return socket
    # --8<-- [end:chain]
