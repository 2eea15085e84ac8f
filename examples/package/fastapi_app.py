"""A python-socketio app under FastAPI (ASGI, uvicorn), its own connect handlers and session,
with Socket.IO 1.0+ middlewares in front of them, /admin included:
``python examples/package/fastapi_app.py PORT``."""

import asyncio
import sys

import socketio
import uvicorn
from fastapi import FastAPI

import socketio_handshake_auth
from socketio_handshake_auth import ExtendedError, MiddlewareServer, MiddlewareSocket, Next

TOKENS = {"let-me-in": ("alice", "user"), "let-me-admin": ("bob", "admin")}  # your own check

# --8<-- [start:app]
sio = socketio.AsyncServer(async_mode="asgi")  # your server, as it was
io = MiddlewareServer(sio)  # Socket.IO 1.0+ middlewares in front of its connect handlers


def require_token(socket: MiddlewareSocket, next: Next) -> None:
    found = TOKENS.get(socket.handshake["auth"].get("token"))
    if found is None:
        return next(ExtendedError("Invalid credentials", {"code": "bad_credentials"}))
    socket.data["user"], socket.data["role"] = found  # read later as socket.data
    next()


def require_admin(socket: MiddlewareSocket, next: Next) -> None:
    if socket.data["role"] != "admin":
        return next(ExtendedError("Forbidden namespace", {"code": "forbidden_namespace"}))
    next()


async def look_up_reports(socket: MiddlewareSocket, next: Next) -> None:
    raise RuntimeError("reports database is down")  # a bug: the client gets a generic refusal


io.use(require_token)  # the main namespace only: /admin has a chain of its own
io.of("/admin").use(require_token).use(require_admin)
io.of("/reports").use(require_token).use(look_up_reports)


@sio.event
async def connect(sid, environ, auth):  # your own handler: runs once the chain has passed
    socket = io.socket(sid)  # what the middlewares learned is readable here already
    await sio.save_session(sid, {"greeting": f"hello {socket.data['user']}"})


@sio.on("connect", namespace="/admin")
async def admin_connect(sid, environ, auth):
    await sio.emit("welcome", io.socket(sid, "/admin").data, to=sid, namespace="/admin")


@sio.on("connect", namespace="/reports")
async def reports_connect(sid, environ, auth):
    pass  # never reached: its chain raises


@sio.event
async def whoami(sid):
    return {"session": await sio.get_session(sid), "data": io.socket(sid).data}


api = FastAPI()


@api.get("/health")
async def health() -> dict:
    return {"ok": True}  # your other routes, as they were


app = io.asgi_app(api)
# --8<-- [end:app]


async def main(port: int) -> None:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    serving = asyncio.ensure_future(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    print(f"listening on http://127.0.0.1:{port} with {socketio_handshake_auth.__file__}",
          flush=True)
    await serving


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
