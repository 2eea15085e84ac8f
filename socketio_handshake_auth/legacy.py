"""The Socket.IO 0.9 authorization model, on python-socketio: the handshake gate.

No Python library speaks the 0.9 wire protocol, so this reproduces its *semantics* on top of a
modern Engine.IO server: the global ``authorization`` function runs on the first HTTP request of
a connection (the handshake, before any Socket.IO socket exists) and answers it the way 0.9.19's
``Manager#handleHandshake`` did, byte for byte; ``of(ns).authorization(fn)`` runs when the client
joins a namespace. It works in front of an existing ``socketio.AsyncServer``, under aiohttp
(``attach``) or any ASGI server (``asgi_app``).
"""

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import socketio

from socketio_handshake_auth.engine import Engine
from socketio_handshake_auth.http import (
    HttpRequest,
    epoch_ms,
    js_date_string,
    node_headers,
    node_query,
    request_of,
)
from socketio_handshake_auth.javascript import js_truthy
from socketio_handshake_auth.refusals import HttpRefusal, refuse_with
from socketio_handshake_auth.sockets import Namespace, Socket
from socketio_handshake_auth.timeouts import within

log = logging.getLogger("handshake.legacy")
# Where the gate keeps a connection's handshake data: in the environ python-engineio and
# python-socketio keep for the connection's whole life, and let go of when it ends. A client
# cannot set it: the names of the headers it sends all start with HTTP_.
HANDSHAKE_DATA = "socketio_handshake_auth.handshake_data"


def handshake_data_of(request: HttpRequest) -> dict:
    """0.9's ``handshakeData``: exactly these eight fields, in this order."""
    return {
        "headers": node_headers(request),
        "address": {"address": request.remote, "port": request.port},
        "time": js_date_string(),
        "query": node_query(request),
        "url": request.url,
        "xdomain": request.header("origin") is not None,
        "secure": request.secure,
        "issued": epoch_ms(),
    }


async def run_authorization(fn, handshake_data: dict, timeout: float):
    """Call ``fn(handshake_data, callback)`` and wait for ``callback(err, authorized)``.

    Returns ``(err, authorized)``: ``err`` is None unless JavaScript would call it truthy
    (``{}`` and ``[]`` are errors there), and ``authorized`` follows JavaScript's truthiness
    too, as 0.9's ``if (!authorized)`` did. Fails closed where 0.9 crashed or hung: ``fn``
    raising counts as an error, a callback that never comes as an error after ``timeout``
    seconds, and a second call is ignored. Like 0.9, a third argument (a replacement handshake
    object) is ignored: mutate ``handshake_data`` instead.
    """
    answered = asyncio.get_running_loop().create_future()

    def callback(err=None, authorized=False, *ignored):
        if not answered.done():
            answered.set_result((err if js_truthy(err) else None, js_truthy(authorized)))

    async def answer():
        result = fn(handshake_data, callback)
        if inspect.isawaitable(result):
            await result
        return await answered

    try:
        return await within(answer(), timeout)
    except TimeoutError:
        return "authorization callback not called in time", False
    except Exception as exc:  # CancelledInside too: its own cancellation is its error
        log.exception("authorization function raised")
        return exc, False


def origin_allowed(origins: str, origin: str | None) -> bool:
    """0.9's ``verifyOrigin``: entries ``host:port``, ``host:*``, ``*:port``; ``*:*`` allows all.

    0.9 searched the setting with ``indexOf`` (so ``good.example:80`` also let in
    ``d.example:80``); here each entry must match whole.
    """
    entries = set(origins.split())
    if "*:*" in entries:
        return True
    if not origin or origin == "null":
        return False
    parts = urlsplit(origin)
    host, port = parts.hostname, parts.port or 80
    return bool({f"{host}:{port}", f"{host}:*", f"*:{port}"} & entries)


def cors_only_for_an_origin(eio) -> None:
    """0.9 sent CORS headers only to a request that has an ``Origin``; python-engineio adds
    ``Access-Control-Allow-Credentials`` to every answer once credentials are on. No option
    asks for 0.9's rule, so its (private) header builder is wrapped."""
    headers_for = eio._cors_headers
    eio._cors_headers = lambda environ: headers_for(environ) if "HTTP_ORIGIN" in environ else []


# ``callback(err, authorized)``: 0.9 read both with JavaScript's truthiness.
Callback = Callable[..., None]
# ``fn(handshake_data, callback)``, plain or ``async``: 0.9's authorization signature.
Authorization = Callable[[dict, Callback], Awaitable[None] | None]


class SocketNamespace(Namespace):
    """``io.of(name)``: 0.9 namespaces could have their own ``authorization(fn)``."""

    auth: Authorization | None = None

    def authorization(self, fn: Authorization) -> "SocketNamespace":
        self.auth = fn
        return self


class LegacyServer(Engine[SocketNamespace]):
    """0.9's ``Manager``, reduced to what authorization needs: settings, namespaces, the gate.

    ``LegacyServer()`` builds its own python-socketio server; ``LegacyServer(sio)`` puts the
    gate in front of yours, keeping your handlers, session and options.
    """

    namespace_class = SocketNamespace

    def __init__(self, sio: socketio.AsyncServer | None = None, *, path: str = "socket.io",
                 jsonp: bool = False, connect_timeout: float = 45.0, **sio_options):
        self.settings = {"authorization": False, "origins": "*:*", "authorization timeout": 10.0}
        own_server = sio is None
        if own_server:  # 0.9 answered CORS for the origins its setting allows
            sio_options = {"cors_allowed_origins": self._engine_origin_allowed,
                           "cors_credentials": True, **sio_options}
        super().__init__(sio, path=path, jsonp=jsonp, connect_timeout=connect_timeout,
                         sio_options=sio_options)
        if own_server:
            cors_only_for_an_origin(self.sio.eio)
        self._install_gate()
        self.sockets = self.of("/")  # io.sockets

    def set(self, key: str, value) -> "LegacyServer":
        if key not in self.settings:
            raise KeyError(f"unknown setting {key!r}")
        self.settings[key] = value
        return self

    def get(self, key: str):
        return self.settings[key]

    def _engine_origin_allowed(self, origin, environ) -> bool:
        """0.9's ``origins`` rule, checked by python-engineio before anything else; a refusal
        is answered as 0.9 did, without CORS headers."""
        if origin_allowed(self.get("origins"), origin):
            return True
        refuse_with(environ, HttpRefusal(403, "handshake bad origin"))
        return False

    def _install_gate(self) -> None:
        # python-engineio calls its connect handler for exactly the requests that open a
        # session, whatever their transport: the gate runs there, so nothing opens a session
        # without passing it, and no second parser decides what a handshake is.
        open_session = self.sio.eio.handlers["connect"]

        async def gate(eio_sid, environ):
            answer = await self._handshake(environ, request_of(environ))
            if answer is not None:
                refuse_with(environ, answer)
                return False  # python-engineio drops the session; 0.9's answer replaces its
            return await open_session(eio_sid, environ)

        self.sio.eio.on("connect", gate)

    # --8<-- [start:gate]
    async def _handshake(self, environ: dict, request: HttpRequest) -> HttpRefusal | None:
        """The HTTP handshake, the request that opens a connection: None lets it through."""
        origin = request.header("origin")
        if not origin_allowed(self.get("origins"), origin or request.header("referer")):
            return HttpRefusal(403, "handshake bad origin")  # no Origin: 0.9 read the Referer
        handshake_data = handshake_data_of(request)
        err, authorized = await self._authorize(handshake_data)
        if err is not None:
            log.warning("handshake error %s", err)
            return HttpRefusal(500, "handshake error", origin)
        if not authorized:
            return HttpRefusal(403, "handshake unauthorized", origin)
        environ[HANDSHAKE_DATA] = handshake_data  # the same object becomes socket.handshake
        return None
    # --8<-- [end:gate]

    async def _authorize(self, handshake_data: dict):
        fn = self.get("authorization")
        if not fn:
            return None, True
        return await run_authorization(fn, handshake_data, self.get("authorization timeout"))

    async def _join(self, namespace: SocketNamespace, sid: str, environ: dict, auth=None):
        """A client joins a namespace: run its authorization with the stored handshake data."""
        handshake_data = environ.get(HANDSHAKE_DATA)
        if handshake_data is None:  # never passed the gate: refuse, never guess
            raise socketio.exceptions.ConnectionRefusedError("unauthorized")
        if namespace.auth:
            timeout = self.get("authorization timeout")
            err, authorized = await run_authorization(namespace.auth, handshake_data, timeout)
            if err is not None:  # 0.9 could not encode a custom reason: the client got ''
                log.warning("namespace %s authorization error %s", namespace.name, err)
                raise socketio.exceptions.ConnectionRefusedError("")
            if not authorized:
                raise socketio.exceptions.ConnectionRefusedError("unauthorized")
        handshake_data.pop("issued", None)  # 0.9 flagged the handshake as used
        return Socket(self.sio, sid, namespace.name, handshake_data)
