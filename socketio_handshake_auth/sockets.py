"""The era's sockets: each engine builds a ``Socket`` for a client of one namespace (0.9:
``handshake``; 1.0+: ``handshake`` and ``data``) and keeps it in that ``Namespace`` for as
long as the connection lives."""

import logging
from collections.abc import Awaitable, Callable

import socketio

from socketio_handshake_auth.integration import close_connection

log = logging.getLogger("handshake.sockets")


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
        """Socket.IO's ``join``, which never throws. A ``connection`` listener runs once the
        CONNECT reply is on its way, so the client may have left already (a CONNECT and a
        CLOSE in one polling POST), and python-socketio raises then: a socket gone joins
        nothing. A middleware's socket is still connecting, and joins (as in 4.8)."""
        manager = self.sio.manager
        if manager.is_connected(self.id, self.nsp) or manager.is_pre_connected(self.id,
                                                                                self.nsp):
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
