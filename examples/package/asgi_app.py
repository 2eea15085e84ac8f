"""A plain python-socketio app under uvicorn with Starlette, its own connect handler and
session, and Socket.IO 0.9's global authorization in front of the handshake:
``python examples/package/asgi_app.py PORT``."""

import asyncio
import sys

import socketio
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

import socketio_handshake_auth
from socketio_handshake_auth import LegacyServer

# --8<-- [start:app]
sio = socketio.AsyncServer(async_mode="asgi")  # your server, as it was
io = LegacyServer(sio)  # the 0.9 gate in front of its handshake


def authorization(handshake_data, callback):
    if handshake_data["query"].get("token") == "let-me-in":
        handshake_data["user"] = "alice"  # in place: this becomes socket.handshake
        return callback(None, True)
    callback(None, False)  # HTTP 403 "handshake unauthorized", before any session exists


io.set("authorization", authorization)


@sio.event
async def connect(sid, environ, auth):  # your own handler: runs for authorized clients only
    await sio.save_session(sid, {"greeting": "hello"})


@sio.event
async def whoami(sid):
    return {"session": await sio.get_session(sid), "user": io.socket(sid).handshake["user"]}


async def homepage(request):
    return PlainTextResponse("your other routes, as they were")


app = io.asgi_app(Starlette(routes=[Route("/", homepage)]))
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
