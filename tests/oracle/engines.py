"""Our two engines, scripted like ``originals/v0.9/oracle.js`` and ``originals/v4/oracle.js``."""

from socketio_handshake_auth.legacy import LegacyServer
from socketio_handshake_auth.middleware import MiddlewareServer
from tests.oracle.differences import ORIGIN
from tests.oracle.scripts import script

# Where the real server would hang for ever (0.9) or until connectTimeout (4.8), ours refuses
# after this long; the oracle's clients give up a little later.
ENGINE_TIMEOUT = 1.0


async def welcome(socket) -> None:
    await socket.emit("welcome", {"handshake": socket.handshake,
                                  "data": getattr(socket, "data", None)})


def legacy_oracle() -> LegacyServer:
    io = LegacyServer()
    io.set("authorization timeout", ENGINE_TIMEOUT)

    def authorization(handshake_data, callback):
        return script(handshake_data["query"].get("do", "call:null,true"), callback)()

    def admin_authorization(handshake_data, callback):
        return script(handshake_data["query"].get("ns", "call:null,true"), callback)()

    io.set("authorization", authorization)
    io.of("/admin").authorization(admin_authorization)
    io.sockets.on("connection", welcome)
    io.of("/admin").on("connection", welcome)
    return io


def scripted(parameter: str, fallback: str):
    def middleware(socket, next):
        socket.data["ran"] = [*socket.data.get("ran", []), parameter]
        socket.data["connected"] = socket.connected  # as a middleware sees it
        return script(socket.handshake["query"].get(parameter, fallback), next)()

    return middleware


def middleware_oracle() -> MiddlewareServer:
    # the page the oracle's clients say they come from is allowed, as an app allows its own
    io = MiddlewareServer(middleware_timeout=ENGINE_TIMEOUT, cors_allowed_origins=[ORIGIN],
                          cors_credentials=True)
    io.use(scripted("do", "call:undefined"))
    io.use(scripted("then", "call:undefined"))
    io.of("/admin").use(scripted("ns", "call:undefined"))
    io.on("connection", welcome)
    io.of("/admin").on("connection", welcome)
    return io
