"""python-socketio's own pattern on ASGI: the same namespaces, served by uvicorn, in front of
a Starlette app that gets every other request.

``python -m examples.native.asgi_app`` serves it on http://127.0.0.1:8096/.
"""

import socketio
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from examples.native import command_line, real_policy
from examples.native.aiohttp_app import Members
from shared.policy import Policy

SERVER = "native-asgi"




async def home(request: Request) -> PlainTextResponse:
    return PlainTextResponse("Socket.IO is on /socket.io/\n")


# --8<-- [start:app]
def create_app(policy: Policy) -> socketio.ASGIApp:
    sio = socketio.AsyncServer(async_mode="asgi")
    for namespace in ("/", "/admin"):
        sio.register_namespace(Members(namespace, policy, SERVER))  # the aiohttp app's class
    web = Starlette(routes=[Route("/", home)])  # the rest of your site
    # /socket.io/ goes to python-socketio, everything else to Starlette; on shutdown,
    # sio.shutdown() disconnects the clients and stops python-engineio's ping task
    return socketio.ASGIApp(sio, other_asgi_app=web, on_shutdown=sio.shutdown)
# --8<-- [end:app]


if __name__ == "__main__":
    args = command_line("python-socketio on ASGI (uvicorn)", default_port=8096)
    # uvicorn logs request lines and WebSocket URLs at INFO: they show the query, where
    # credentials may travel
    uvicorn.run(create_app(real_policy()), host=args.host, port=args.port, access_log=False,
                log_level="warning", timeout_graceful_shutdown=1)
