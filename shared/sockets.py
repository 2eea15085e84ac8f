"""The few server-side socket mechanics both emulations share, over python-socketio.

Each engine builds its era's ``Socket`` (0.9: ``handshake``; 1.0+: ``handshake`` and ``data``)
and keeps it in the python-socketio session, which lives exactly as long as the connection.
"""

import logging
from collections.abc import Awaitable, Callable

import socketio

log = logging.getLogger("handshake.sockets")


class Socket:
    """A connected socket of one namespace, as a Socket.IO server handler sees it."""

    def __init__(self, sio: socketio.AsyncServer, sid: str, nsp: str, handshake: dict):
        self.sio = sio
        self.id = sid
        self.nsp = nsp
        self.handshake = handshake

    async def emit(self, event: str, data=None) -> None:
        await self.sio.emit(event, data, to=self.id, namespace=self.nsp)

    async def disconnect(self) -> None:
        await self.sio.disconnect(self.id, namespace=self.nsp)


Listener = Callable[..., Awaitable[object]]


class Namespace:
    """``io.of(name)``: its event listeners; each engine adds its own authorization part."""

    def __init__(self, sio: socketio.AsyncServer, name: str):
        self.sio = sio
        self.name = name
        self.connection_listeners: list[Listener] = []

    def on(self, event: str, listener: Listener) -> "Namespace":
        """``connection`` gets ``(socket)``; any other event ``(socket, *args)``, its return
        value being the acknowledgement."""
        if event == "connection":
            self.connection_listeners.append(listener)
            return self

        async def handler(sid, *args):
            session = await self.sio.get_session(sid, namespace=self.name)
            return await listener(session["socket"], *args)

        self.sio.on(event, handler, namespace=self.name)
        return self

    async def connected(self, socket: Socket) -> None:
        """Keep the socket for its events, then tell the ``connection`` listeners."""
        await self.sio.save_session(socket.id, {"socket": socket}, namespace=self.name)
        self.sio.start_background_task(self._announce, socket)

    async def _announce(self, socket: Socket) -> None:
        # Runs once the CONNECT reply is on its way, as Socket.IO's 'connection' event does.
        for listener in self.connection_listeners:
            try:
                await listener(socket)
            except Exception:
                log.exception("connection listener failed on %s", self.name)
