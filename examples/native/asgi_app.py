"""python-socketio's own pattern on ASGI: the same namespaces, served by uvicorn, in front of
a Starlette app that gets every other request.

``python -m examples.native.asgi_app`` serves it on http://127.0.0.1:8096/.
"""

import socketio
import uvicorn
from socketio.exceptions import ConnectionRefusedError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from examples.native import command_line, real_policy
from examples.native.handshake import decide
from shared.policy import Policy, Refusal

SERVER = "native-asgi"


# --8<-- [start:namespace]
class Members(socketio.AsyncNamespace):
    """One instance per namespace; the policy knows which namespace wants which role."""

    def __init__(self, namespace: str, policy: Policy):
        super().__init__(namespace)
        self.policy = policy

    async def on_connect(self, sid, environ, auth):
        """Runs when the client's CONNECT for this namespace arrives, with its ``auth``."""
        verdict = await decide(self.policy, self.namespace, environ, auth)
        if isinstance(verdict, Refusal):  # the client's connect_error: message and data
            raise ConnectionRefusedError(verdict.message, {"code": verdict.code})
        await self.save_session(sid, verdict.as_dict())  # user, role, expires_at, token_id
        await self.emit("welcome", {"user": verdict.user, "role": verdict.role,
                                    "server": SERVER}, to=sid)

    async def on_whoami(self, sid):
        """Any later event reads the identity back from the session."""
        return await self.get_session(sid)
# --8<-- [end:namespace]


async def home(request: Request) -> PlainTextResponse:
    return PlainTextResponse("Socket.IO is on /socket.io/\n")


# --8<-- [start:app]
def create_app(policy: Policy) -> socketio.ASGIApp:
    sio = socketio.AsyncServer(async_mode="asgi")
    for namespace in ("/", "/admin"):
        sio.register_namespace(Members(namespace, policy))
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
