"""A plain python-socketio app on aiohttp, with its own connect handler and session, and
Socket.IO 1.0+ middlewares in front of it: ``python examples/package/aiohttp_app.py PORT``."""

import asyncio
import sys

import socketio
from aiohttp import web

import socketio_handshake_auth
from socketio_handshake_auth import MiddlewareServer

# --8<-- [start:app]
sio = socketio.AsyncServer(async_mode="aiohttp")  # your server, as it was
io = MiddlewareServer(sio)  # Socket.IO 1.0+ middlewares in front of its connect handlers


def require_token(socket, next):
    if socket.handshake["auth"].get("token") == "let-me-in":
        socket.data["user"] = "alice"
        return next()
    err = Exception("Invalid credentials")
    err.data = {"code": "bad_credentials"}
    next(err)  # the client's connect_error: err.message and err.data


io.use(require_token)


@sio.event
async def connect(sid, environ, auth):  # your own handler: runs once the chain has passed
    await sio.save_session(sid, {"greeting": "hello"})


@sio.event
async def whoami(sid):
    return {"session": await sio.get_session(sid), "data": io.socket(sid).data}
# --8<-- [end:app]


async def main(port: int) -> None:
    app = web.Application()
    io.attach(app)
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(f"listening on http://127.0.0.1:{port} with {socketio_handshake_auth.__file__}",
          flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
