"""The Socket.IO 0.9 authorization model, emulated on python-socketio + aiohttp.

No Python library speaks the 0.9 wire protocol, so this reproduces its *semantics* on top of a
modern Engine.IO server: the global ``authorization`` function runs on the first HTTP request of
a connection (the handshake, before any session exists) and answers it the way 0.9.19's
``Manager#handleHandshake`` did, byte for byte; ``of(ns).authorization(fn)`` runs when the client
joins a namespace. See docs/reference for each behaviour and the test that proves it.
"""

import asyncio
import inspect
import logging
from urllib.parse import urlsplit

import socketio
from aiohttp import web

from shared.handshake import epoch_ms, js_date_string, node_headers, node_query
from shared.javascript import js_truthy
from shared.sockets import (
    MAX_PACKET_BYTES,
    Namespace,
    Socket,
    close_sessions_that_never_connect,
    refuse_jsonp,
    refuse_oversized_posts,
    refuse_undecodable_packets,
    refuse_unknown_namespaces,
)

log = logging.getLogger("handshake.legacy")

HANDSHAKE_DATA = web.RequestKey("handshake_data", dict)
ANSWER = web.RequestKey("answer", web.Response)  # the gate's 0.9 refusal


@web.middleware
async def answer_as_0_9(request: web.Request, handler):
    """python-engineio answers a refused handshake with its own 401: send 0.9's instead."""
    response = await handler(request)
    return request.get(ANSWER, response)


def handshake_data_of(request: web.Request) -> dict:
    """0.9's ``handshakeData``: exactly these eight fields, in this order."""
    peer = request.transport.get_extra_info("peername") if request.transport else None
    return {
        "headers": node_headers(request),
        "address": {"address": request.remote, "port": peer[1] if peer else None},
        "time": js_date_string(),
        "query": node_query(request),
        "url": request.raw_path,
        "xdomain": "Origin" in request.headers,
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

    try:
        async with asyncio.timeout(timeout):
            result = fn(handshake_data, callback)
            if inspect.isawaitable(result):
                await result
            return await answered
    except TimeoutError:
        return "authorization callback not called in time", False
    except Exception as exc:
        log.exception("authorization function raised")
        return exc, False


def origin_allowed(origins: str, origin: str | None) -> bool:
    """0.9's ``verifyOrigin``: entries ``host:port``, ``host:*``, ``*:port``; ``*:*`` allows all.

    0.9 searched the setting with ``indexOf`` (so ``good.example:80`` also let in
    ``d.example:80``); here each entry must match whole.
    """
    entries = origins.split()
    if "*:*" in entries:
        return True
    if not origin or origin == "null":
        return False
    parts = urlsplit(origin)
    host, port = parts.hostname, parts.port or 80
    return bool({f"{host}:{port}", f"{host}:*", f"*:{port}"} & set(entries))


def text_response(status: int, body: str, origin: str | None = None) -> web.Response:
    response = web.Response(status=status, text=body, content_type="text/plain")
    if origin:  # 0.9 added these to the 200, 403 unauthorized and 500 answers
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
    return response


class SocketNamespace(Namespace):
    """``io.of(name)``: 0.9 namespaces could have their own ``authorization(fn)``."""

    auth = None

    def authorization(self, fn) -> "SocketNamespace":
        self.auth = fn
        return self


class LegacyServer:
    """0.9's ``Manager``, reduced to what authorization needs: settings, namespaces, the gate."""

    def __init__(self, *, path: str = "socket.io", jsonp: bool = False,
                 connect_timeout: float = 45.0, **sio_options):
        """``jsonp``: serve JSONP polling (``?j=``), which any page can load with a script
        tag; off unless a client without CORS must be served. ``connect_timeout``: close a
        connection that joins no namespace within this many seconds (Socket.IO 4's)."""
        self.jsonp = jsonp
        self.settings = {"authorization": False, "origins": "*:*", "authorization timeout": 10.0}
        self.path = f"/{path.strip('/')}/"
        self.sio = socketio.AsyncServer(
            async_mode="aiohttp",
            cors_allowed_origins=self._engine_origin_allowed,
            cors_credentials=True,
            max_http_buffer_size=MAX_PACKET_BYTES,
            namespaces="*",  # unknown ones reach refuse_unknown_namespaces
            **sio_options,
        )
        refuse_undecodable_packets(self.sio)
        refuse_unknown_namespaces(self.sio)
        close_sessions_that_never_connect(self.sio, connect_timeout)
        self.namespaces: dict[str, SocketNamespace] = {}
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
        is answered as 0.9 did, without CORS headers (``answer_as_0_9``)."""
        if origin_allowed(self.get("origins"), origin):
            return True
        environ["aiohttp.request"][ANSWER] = text_response(403, "handshake bad origin")
        return False

    def of(self, name: str) -> SocketNamespace:
        if name not in self.namespaces:
            self.namespaces[name] = SocketNamespace(self.sio, name)

            async def connect(sid, environ, auth=None):
                return await self._join(self.namespaces[name], sid, environ)

            self.sio.on("connect", connect, namespace=name)
        return self.namespaces[name]

    def attach(self, app: web.Application) -> None:
        app.middlewares.extend([refuse_oversized_posts(self.path), answer_as_0_9])
        if not self.jsonp:
            app.middlewares.append(refuse_jsonp(self.path))
        self.sio.attach(app, socketio_path=self.path)
        # python-engineio calls its connect handler for exactly the requests that open a
        # session, whatever their transport: the gate runs there, so nothing opens a session
        # without passing it, and no second parser decides what a handshake is.
        open_session = self.sio.eio.handlers["connect"]

        async def gate(eio_sid, environ):
            answer = await self._handshake(environ["aiohttp.request"])
            if answer is not None:
                environ["aiohttp.request"][ANSWER] = answer
                return False  # python-engineio drops the session: answer_as_0_9 says why
            return await open_session(eio_sid, environ)

        self.sio.eio.on("connect", gate)

    # --8<-- [start:gate]
    async def _handshake(self, request: web.Request) -> web.Response | None:
        """The HTTP handshake, the request that opens a connection: None lets it through."""
        origin = request.headers.get("Origin")
        if not origin_allowed(self.get("origins"), origin or request.headers.get("Referer")):
            return text_response(403, "handshake bad origin")  # no Origin: 0.9 read Referer
        handshake_data = handshake_data_of(request)
        err, authorized = await self._authorize(handshake_data)
        if err is not None:
            log.warning("handshake error %s", err)
            return text_response(500, "handshake error", origin)
        if not authorized:
            return text_response(403, "handshake unauthorized", origin)
        request[HANDSHAKE_DATA] = handshake_data  # the same object becomes socket.handshake
        return None
    # --8<-- [end:gate]

    async def _authorize(self, handshake_data: dict):
        fn = self.get("authorization")
        if not fn:
            return None, True
        return await run_authorization(fn, handshake_data, self.get("authorization timeout"))

    async def _join(self, namespace: SocketNamespace, sid: str, environ: dict):
        """A client joins a namespace: run its authorization with the stored handshake data."""
        try:
            handshake_data = environ["aiohttp.request"].get(HANDSHAKE_DATA)
            if handshake_data is None:  # never passed the gate: refuse, never guess
                return False
            if namespace.auth:
                timeout = self.get("authorization timeout")
                err, authorized = await run_authorization(namespace.auth, handshake_data, timeout)
                if err is not None:  # 0.9 could not encode a custom reason: the client got ''
                    log.warning("namespace %s authorization error %s", namespace.name, err)
                    raise socketio.exceptions.ConnectionRefusedError("")
                if not authorized:
                    raise socketio.exceptions.ConnectionRefusedError("unauthorized")
            handshake_data.pop("issued", None)  # 0.9 flagged the handshake as used
            await namespace.connected(Socket(self.sio, sid, namespace.name, handshake_data))
        except asyncio.CancelledError:
            return False  # python-socketio would take a cancelled handler as a yes
        return True
