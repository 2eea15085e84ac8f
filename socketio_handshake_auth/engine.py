"""``Engine``, the base both engines build on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeVar

import socketio

from socketio_handshake_auth.integration import (
    ConnectHooks,
    close_sessions_that_never_connect,
    refuse_undecodable_packets,
    refuse_unknown_namespaces,
)
from socketio_handshake_auth.refusals import (
    MAX_PACKET_BYTES,
    AsgiRefusals,
    refuse_jsonp_asgi,
    refuse_unreadable_payloads_asgi,
)
from socketio_handshake_auth.sockets import Namespace, Socket

if TYPE_CHECKING:  # aiohttp is the optional extra; attach() imports it when called
    from aiohttp import web

NamespaceT = TypeVar("NamespaceT", bound=Namespace)


class Engine(Generic[NamespaceT]):
    """What both engines do alike: own or wrap a python-socketio server, guard it, keep its
    namespaces, and serve it under aiohttp or ASGI. Each adds its era's authorization, and its
    era's ``Namespace`` (``namespace_class``)."""

    namespace_class: type[NamespaceT]

    def __init__(self, sio: socketio.AsyncServer | None, *, path: str, jsonp: bool,
                 connect_timeout: float, sio_options: dict):
        """``jsonp``: serve JSONP polling (``?j=``), which any page can load with a script
        tag; off unless a client without CORS must be served. ``connect_timeout``: close a
        connection that joins no namespace within this many seconds (Socket.IO 4's)."""
        if sio is not None and not isinstance(sio, socketio.AsyncServer):
            raise TypeError(f"{type(self).__name__} needs a socketio.AsyncServer, not a "
                            f"{type(sio).__module__}.{type(sio).__name__}: its authorization "
                            "runs as coroutines, which a sync server cannot await")
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
        self.namespaces: dict[str, NamespaceT] = {}

    def of(self, name: str) -> NamespaceT:
        """``io.of(name)``: the namespace, made on first use."""
        if name not in self.namespaces:
            self.namespaces[name] = self.namespace_class(self.sio, name)
            self.hooks.add(self.namespaces[name], self._join)
        return self.namespaces[name]

    def socket(self, sid: str, namespace: str = "/") -> Socket | None:
        """The era's socket a connected ``sid`` has (``handshake``, 1.0+'s ``data``), for
        your own handlers."""
        return self.namespaces[namespace].sockets.get(sid) if namespace in self.namespaces else None

    async def _join(self, namespace: NamespaceT, sid: str, environ: dict,
                    auth=None) -> Socket:
        raise NotImplementedError

    def attach(self, app: web.Application) -> None:
        """Serve on an aiohttp app (instead of ``sio.attach(app)``): the routes
        python-engineio's own ``attach`` adds, with its handler ``guarded``. The app's
        middlewares run before it, as for any route. Needs the ``aiohttp`` extra: without
        aiohttp, an ImportError that names it."""
        from socketio_handshake_auth.aiohttp_guard import guarded

        # refused at python-engineio's own limit, which its handshake tells clients (maxPayload)
        handle_request = guarded(self.sio.eio.handle_request, self.jsonp,
                                 self.sio.eio.max_http_buffer_size)
        app.router.add_get(self.path, handle_request)
        app.router.add_post(self.path, handle_request)
        app.router.add_route("OPTIONS", self.path, handle_request)

    def asgi_app(self, other_asgi_app=None, **options) -> AsgiRefusals:
        """Serve under any ASGI server (uvicorn, with Starlette or FastAPI as ``other``)."""
        app = socketio.ASGIApp(self.sio, other_asgi_app, socketio_path=self.path, **options)
        checked = refuse_unreadable_payloads_asgi(app, self.path,
                                                  self.sio.eio.max_http_buffer_size)
        return AsgiRefusals(checked if self.jsonp else refuse_jsonp_asgi(checked, self.path))
