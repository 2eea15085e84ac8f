"""The server-side mechanics both engines share, over an existing python-socketio server.

Each engine builds its era's ``Socket`` (0.9: ``handshake``; 1.0+: ``handshake`` and ``data``)
and keeps it in its ``Namespace`` for as long as the connection lives. The app's own handlers
and session are left as they are: the engines wrap them (``ConnectHooks``), never replace them.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qs

import socketio
from aiohttp import web
from socketio import packet

log = logging.getLogger("handshake.sockets")

# python-engineio's default is 1 MB; an auth payload never needs more than a few hundred bytes.
MAX_PACKET_BYTES = 64 * 1024
MALFORMED = {"message": "Malformed credentials", "data": {"code": "malformed_credentials"}}


def refuse_undecodable_packets(sio: socketio.AsyncServer) -> None:
    """Answer a CONNECT whose payload is not JSON (or nested too deep) with a CONNECT_ERROR,
    and drop a packet that arrives for a session already closed.

    python-socketio raises while decoding such a packet and sends nothing: the client would
    wait forever. This wraps its Engine.IO message handler (a private method, so the version
    is pinned) and refuses instead; any other undecodable packet closes the connection.
    python-engineio hands on what a client sent after the session closed (a CONNECT right
    behind an Engine.IO CLOSE): python-socketio would register that CONNECT's sid, then fail
    on the session's missing environ, and keep the sid for good.
    """
    handle = sio._handle_eio_message

    async def on_message(eio_sid, data):
        if eio_sid not in sio.environ or not open_session(sio, eio_sid):
            return  # closed: nothing it sends can join anything
        try:
            return await handle(eio_sid, data)
        except (ValueError, RecursionError) as exc:
            log.info("undecodable packet refused: %s", type(exc).__name__,
                     extra={"refusal": "malformed_credentials"})
        if isinstance(data, str) and data.startswith(str(packet.CONNECT)):
            namespace = data[1:].split(",", 1)[0] if data.startswith("0/") else "/"
            refusal = sio.packet_class(packet.CONNECT_ERROR, data=MALFORMED, namespace=namespace)
            await sio.eio.send(eio_sid, refusal.encode())
        else:  # close without waiting for the send queue to drain (that can wait forever)
            await sio.eio._get_socket(eio_sid).close(wait=False, abort=True)

    sio.eio.on("message", on_message)


def watch_engine_io_sessions(sio: socketio.AsyncServer, opened, closed) -> None:
    """Call ``opened(eio_sid, environ)`` and ``closed(eio_sid)`` as python-socketio opens and
    closes each Engine.IO session (the handlers already there still run)."""
    on_connect, on_disconnect = sio.eio.handlers["connect"], sio.eio.handlers["disconnect"]

    async def connect(eio_sid, environ):
        result = await on_connect(eio_sid, environ)
        if result is None or result is True:  # False: the session was refused, never opened
            opened(eio_sid, environ)
        return result

    async def disconnect(eio_sid, reason):
        closed(eio_sid)
        return await on_disconnect(eio_sid, reason)

    sio.eio.on("connect", connect)
    sio.eio.on("disconnect", disconnect)


def close_sessions_that_never_connect(sio: socketio.AsyncServer, timeout: float):
    """Socket.IO 4's ``connectTimeout``: an Engine.IO session that has joined no namespace
    ``timeout`` seconds after it opened is closed. python-socketio keeps such a session as
    long as the client answers pings: 100,000 of them held 1.1 GB. So is a session that left
    every namespace it joined: call the returned function with its id when it leaves one."""
    closing: set[asyncio.Task] = set()
    timers: dict[str, asyncio.TimerHandle] = {}  # eio_sid -> its deadline

    def sids(eio_sid: str) -> list[tuple[str, str]]:
        return [(sid, namespace) for namespace in list(sio.manager.get_namespaces())
                if (sid := sio.manager.sid_from_eio_sid(eio_sid, namespace)) is not None]

    def check(eio_sid: str) -> None:
        timers.pop(eio_sid, None)
        joining = sids(eio_sid)
        if any(sio.manager.is_connected(sid, namespace) for sid, namespace in joining):
            return
        if joining:  # a CONNECT is still being authorized: look again once it is answered
            opened(eio_sid, None)
        else:
            log.info("closed a session that joined no namespace in %s s", timeout)
            task = asyncio.ensure_future(sio.eio.disconnect(eio_sid))
            closing.add(task)  # a reference until it is done
            task.add_done_callback(closing.discard)

    def opened(eio_sid, environ):
        closed(eio_sid)  # one deadline per session, the latest
        timers[eio_sid] = asyncio.get_running_loop().call_later(timeout, check, eio_sid)

    def closed(eio_sid):
        if (timer := timers.pop(eio_sid, None)) is not None:
            timer.cancel()

    def left_a_namespace(eio_sid: str) -> None:
        session = sio.eio.sockets.get(eio_sid)
        if session is not None and not session.closing:  # not the session itself closing
            opened(eio_sid, None)  # the check then finds whether any namespace is left

    watch_engine_io_sessions(sio, opened, closed)
    return left_a_namespace


async def close_connection(sio: socketio.AsyncServer, eio_sid: str, grace: float = 1.0) -> None:
    """Close a whole Engine.IO session, every namespace on it, as Socket.IO 4's
    ``socket.disconnect(true)`` does. What is already queued for the client (a last event,
    the DISCONNECT packets) gets up to ``grace`` seconds to leave: a long-poll that is never
    renewed must not hold the caller."""
    for namespace in list(sio.manager.get_namespaces()):
        sid = sio.manager.sid_from_eio_sid(eio_sid, namespace)
        if sid is not None and sio.manager.is_connected(sid, namespace):
            await sio.disconnect(sid, namespace=namespace, ignore_queue=True)
    session = sio.eio.sockets.get(eio_sid)
    if session is None:
        return
    with contextlib.suppress(TimeoutError):  # closed at once; the wait is for its queue
        async with asyncio.timeout(grace):
            await session.close(reason=sio.eio.reason.SERVER_DISCONNECT)
    sio.eio.sockets.pop(eio_sid, None)


def refuse_unknown_namespaces(sio: socketio.AsyncServer) -> None:
    """A CONNECT to a namespace nobody registered gets Socket.IO 4's answer,
    ``{"message": "Invalid namespace"}`` (python-socketio's own is the string
    ``"Unable to connect"``). The server must be built with ``namespaces="*"`` so that such a
    CONNECT reaches this catch-all handler; registered namespaces keep their own."""

    async def refuse(namespace, sid, environ, auth=None):
        raise socketio.exceptions.ConnectionRefusedError("Invalid namespace")

    sio.on("connect", refuse, namespace="*")


@dataclass(frozen=True)
class Answer:
    """An HTTP answer given instead of python-engineio's own 401, to a handshake refused in
    its connect handler (``remember`` it there): 0.9's answers, the session cap's 429."""

    status: int
    body: str
    origin: str | None = None  # 0.9 added CORS headers for it to 200, 403 and 500 answers

    @property
    def headers(self) -> list[tuple[str, str]]:
        cors = [("Access-Control-Allow-Origin", self.origin),
                ("Access-Control-Allow-Credentials", "true")] if self.origin else []
        return [("Content-Type", "text/plain"), *cors]  # 0.9's, without a charset


ANSWER = web.RequestKey("answer", Answer)
ASGI_ANSWER = "socketio_handshake_auth.answer"  # the same, in an ASGI scope


def remember(environ: dict, answer: Answer) -> None:
    if "aiohttp.request" in environ:
        environ["aiohttp.request"][ANSWER] = answer
    else:
        environ["asgi.scope"][ASGI_ANSWER] = answer


def guarded(handle_request, jsonp: bool):
    """python-engineio's aiohttp handler, behind what every request to its path must pass
    (a wrapper of that one route: the app's other routes are not the engine's business).

    - JSONP polling (``?j=``) gets 400, unless ``jsonp``. A JSONP answer is a script, and a
      ``<script>`` tag on any page, same site or not, sends the user's cookie and no
      ``Origin``: that page would read the session id and drive an authenticated session.
      Engine.IO clients use it only for browsers without CORS (IE 9).
    - A polling POST over MAX_PACKET_BYTES gets 413 at once. python-engineio would answer it
      only after closing the session, which waits for a long-poll that may never come.
    - A handshake refused with an ``Answer`` gets that answer.
    """

    async def guard(request: web.Request) -> web.StreamResponse:
        if not jsonp and asks_for_jsonp(request.query_string):
            log.info("JSONP polling refused", extra={"refusal": "jsonp_disabled"})
            return web.Response(status=400, text="JSONP polling is disabled")
        if (request.content_length or 0) > MAX_PACKET_BYTES:
            log.info("oversized packet refused (%d bytes)", request.content_length)
            return web.Response(status=413, text="payload too large")
        response = await handle_request(request)
        # python-engineio refuses a handshake with 400 or 401; only then can there be an
        # Answer (a missing key costs aiohttp's request an exception, on every request)
        answer = request.get(ANSWER) if response.status >= 400 else None
        if answer is None:
            return response
        # bytes, so that aiohttp adds no charset to the Content-Type 0.9 sent
        return web.Response(status=answer.status, body=answer.body.encode(),
                            headers=answer.headers)

    return guard


def asks_for_jsonp(query_string: str) -> bool:
    """Does python-engineio see ``j`` in this query (a name, percent-decoded, with a value
    that is not empty)? Read as it reads it, with ``parse_qs``."""
    return "j" in parse_qs(query_string, errors="replace")


class Answers:
    """``guarded``'s last rule for ASGI: wraps ``socketio.ASGIApp``."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_answer(message):
            answer = scope.get(ASGI_ANSWER)
            if answer is None:
                return await send(message)
            if message["type"] == "http.response.start":
                await send({"type": "http.response.start", "status": answer.status,
                            "headers": [(k.lower().encode(), v.encode())
                                        for k, v in answer.headers]})
                await send({"type": "http.response.body", "body": answer.body.encode()})

        await self.app(scope, receive, send_answer)


def refuse_jsonp_asgi(app, path: str):
    """``guarded``'s JSONP rule for ASGI."""

    async def guarded(scope, receive, send):
        query = scope.get("query_string", b"").decode("latin-1")
        if scope["type"] == "http" and under(scope["path"], path) and asks_for_jsonp(query):
            log.info("JSONP polling refused", extra={"refusal": "jsonp_disabled"})
            await send({"type": "http.response.start", "status": 400,
                        "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"JSONP polling is disabled"})
            return
        await app(scope, receive, send)

    return guarded


def under(request_path: str, path: str) -> bool:
    """Does python-engineio answer this path? It takes ``/socket.io`` and ``/socket.io/…``
    alike, so the guards must too."""
    return (request_path.rstrip("/") + "/").startswith(path)


class Socket:
    """A connected socket of one namespace, as a Socket.IO server handler sees it."""

    def __init__(self, sio: socketio.AsyncServer, sid: str, nsp: str, handshake: dict):
        self.sio = sio
        self.id = sid
        self.nsp = nsp
        self.handshake = handshake
        self.eio_sid = sio.manager.eio_sid_from_sid(sid, nsp)  # its Engine.IO session

    async def emit(self, event: str, data=None) -> None:
        await self.sio.emit(event, data, to=self.id, namespace=self.nsp)

    async def enter_room(self, room: str) -> None:
        await self.sio.enter_room(self.id, room, namespace=self.nsp)

    async def disconnect(self, close: bool = False) -> None:
        """Leave this namespace; ``close``: end the whole connection, every namespace on it
        (Socket.IO 4's ``socket.disconnect(true)``)."""
        if close:
            await close_connection(self.sio, self.eio_sid)
        else:
            await self.sio.disconnect(self.id, namespace=self.nsp)


Listener = Callable[..., Awaitable[object]]


class Namespace:
    """``io.of(name)``: its sockets and event listeners; each engine adds its authorization."""

    def __init__(self, sio: socketio.AsyncServer, name: str):
        self.sio = sio
        self.name = name
        self.sockets: dict[str, Socket] = {}  # sid -> Socket, while connected
        self.connection_listeners: list[Listener] = []

    def on(self, event: str, listener: Listener) -> "Namespace":
        """``connection`` gets ``(socket)``; any other event ``(socket, *args)``, its return
        value being the acknowledgement."""
        if event == "connection":
            self.connection_listeners.append(listener)
            return self

        async def handler(sid, *args):
            socket = self.sockets.get(sid)
            return None if socket is None else await listener(socket, *args)

        self.sio.on(event, handler, namespace=self.name)
        return self

    def announce(self, socket: Socket) -> None:
        """Tell the ``connection`` listeners, once the CONNECT reply is on its way."""
        self.sio.start_background_task(self._announce, socket)

    async def _announce(self, socket: Socket) -> None:
        # Runs once the CONNECT reply is on its way, as Socket.IO's 'connection' event does.
        for listener in self.connection_listeners:
            try:
                await listener(socket)
            except Exception:
                log.exception("connection listener failed on %s", self.name)


async def accept(sid, environ, auth=None) -> bool:
    return True


class ConnectHooks:
    """Runs an engine's authorization around the app's own ``connect`` handler, whatever its
    style (a function, a namespace class, none at all), and forgets sockets on ``disconnect``
    (calling ``left_a_namespace(eio_sid)`` for every namespace a connection leaves).

    python-socketio has no hook for this, so its event dispatch (a private method: the version
    is pinned) is wrapped once per server. ``authorize(namespace, sid, environ, auth)`` returns
    the era's socket, or raises ``ConnectionRefusedError``; the app's handler runs only after.
    """

    def __init__(self, sio: socketio.AsyncServer, left_a_namespace: Callable[[str], None]):
        self.namespaces: dict[str, tuple[Namespace, Callable]] = {}
        trigger = sio._trigger_event

        async def trigger_event(event, namespace, *args):
            if event == "disconnect":
                eio_sid = sio.manager.eio_sid_from_sid(args[0], namespace)
                try:
                    return await trigger(event, namespace, *args)
                finally:
                    if namespace in self.namespaces:
                        self.namespaces[namespace][0].sockets.pop(args[0], None)
                    left_a_namespace(eio_sid)
            if namespace not in self.namespaces or event != "connect":
                return await trigger(event, namespace, *args)
            return await self._connect(trigger, namespace, *args)

        sio._trigger_event = trigger_event

    def add(self, namespace: Namespace, authorize) -> None:
        self.namespaces[namespace.name] = (namespace, authorize)
        sio, name = namespace.sio, namespace.name
        if "connect" not in sio.handlers.get(name, {}) and name not in sio.namespace_handlers:
            sio.on("connect", accept, namespace=name)  # the app may register its own later

    async def _connect(self, trigger, name: str, sid: str, environ: dict, *auth):
        namespace, authorize = self.namespaces[name]
        if sid not in namespace.sockets:  # python-socketio calls again without auth on TypeError
            socket = await authorize(namespace, sid, environ, *auth)
            if not open_session(namespace.sio, socket.eio_sid):  # gone while authorized
                raise socketio.exceptions.ConnectionRefusedError("connection closed")
            # kept before the app's handler runs, so that it can read the socket too
            namespace.sockets[sid] = socket
        try:
            accepted = await trigger("connect", name, sid, environ, *auth)
        except TypeError:
            if auth != (None,):  # no retry follows
                namespace.sockets.pop(sid, None)
            raise  # python-socketio retries without auth, and finds the socket authorized
        except BaseException:
            namespace.sockets.pop(sid, None)
            raise
        socket = namespace.sockets[sid]
        if accepted is not False and not open_session(namespace.sio, socket.eio_sid):
            accepted = False  # closed while the app's handler ran: nothing to acknowledge
        if accepted is False:
            namespace.sockets.pop(sid, None)
        else:
            namespace.announce(socket)
        return accepted


def open_session(sio: socketio.AsyncServer, eio_sid: str | None) -> bool:
    session = sio.eio.sockets.get(eio_sid)
    return session is not None and not session.closing and not session.closed


class Engine:
    """What both engines do alike: own or wrap a python-socketio server, guard it, keep its
    namespaces, and serve it under aiohttp or ASGI. Each adds its era's authorization."""

    namespace_class = Namespace

    def __init__(self, sio: socketio.AsyncServer | None, *, path: str, jsonp: bool,
                 connect_timeout: float, sio_options: dict):
        """``jsonp``: serve JSONP polling (``?j=``), which any page can load with a script
        tag; off unless a client without CORS must be served. ``connect_timeout``: close a
        connection that joins no namespace within this many seconds (Socket.IO 4's)."""
        self.jsonp = jsonp
        self.path = f"/{path.strip('/')}/"
        if sio is None:
            sio = socketio.AsyncServer(async_mode=sio_options.pop("async_mode", "aiohttp"),
                                       max_http_buffer_size=MAX_PACKET_BYTES,
                                       namespaces="*",  # unknown ones: refused below
                                       **sio_options)
            refuse_unknown_namespaces(sio)
        self.sio = sio
        refuse_undecodable_packets(sio)
        self.hooks = ConnectHooks(sio, close_sessions_that_never_connect(sio, connect_timeout))
        self.namespaces: dict[str, Namespace] = {}

    def of(self, name: str):
        if name not in self.namespaces:
            self.namespaces[name] = self.namespace_class(self.sio, name)
            self.hooks.add(self.namespaces[name], self._join)
        return self.namespaces[name]

    def socket(self, sid: str, namespace: str = "/"):
        """The era's socket a connected ``sid`` has (``handshake``, 1.0+'s ``data``), for
        your own handlers."""
        return self.namespaces[namespace].sockets.get(sid) if namespace in self.namespaces else None

    async def _join(self, namespace, sid: str, environ: dict, auth=None) -> Socket:
        raise NotImplementedError

    def attach(self, app: web.Application) -> None:
        """Serve on an aiohttp app (instead of ``sio.attach(app)``): the routes
        python-engineio's own ``attach`` adds, with its handler ``guarded``. The app's
        middlewares run before it, as for any route."""
        handle_request = guarded(self.sio.eio.handle_request, self.jsonp)
        app.router.add_get(self.path, handle_request)
        app.router.add_post(self.path, handle_request)
        app.router.add_route("OPTIONS", self.path, handle_request)

    def asgi_app(self, other_asgi_app=None, **options):
        """Serve under any ASGI server (uvicorn, with Starlette or FastAPI as ``other``)."""
        app = socketio.ASGIApp(self.sio, other_asgi_app, socketio_path=self.path, **options)
        return Answers(app if self.jsonp else refuse_jsonp_asgi(app, self.path))
