"""Where the engines hook into python-socketio and python-engineio: a CONNECT that cannot be
decoded is refused, a packet for a closed session is dropped, a session that joins no
namespace is closed (Socket.IO 4's ``connectTimeout``), an unknown namespace gets Socket.IO
4's answer, and each namespace's authorization runs before the app's ``connect`` handler
(``ConnectHooks``). Where a private python-socketio method is wrapped, its docstring says why.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable

import socketio
from socketio import packet

log = logging.getLogger("handshake.engine")
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


async def accept(sid, environ, auth=None) -> bool:
    """A namespace's ``connect`` handler while the app has none of its own."""
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
        self.namespaces: dict[str, tuple] = {}  # name -> (its Namespace, its authorize)
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

    def add(self, namespace, authorize) -> None:
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
