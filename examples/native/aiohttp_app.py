"""python-socketio's own pattern on aiohttp: the ``connect`` handler of each namespace decides.

``python -m examples.native.aiohttp_app`` serves it on http://127.0.0.1:8095/.
"""

import socketio
from aiohttp import web
from socketio.exceptions import ConnectionRefusedError

from examples.native import command_line, real_policy
from examples.native.handshake import decide
from shared.policy import Policy, Refusal

SERVER = "native-aiohttp"


# --8<-- [start:namespace]
class Members(socketio.AsyncNamespace):
    """One instance per namespace; the policy knows which namespace wants which role."""

    def __init__(self, namespace: str, policy: Policy, server: str = SERVER):
        super().__init__(namespace)
        self.policy = policy
        self.server_name = server  # what the welcome event says (self.server is python-socketio's)

    async def on_connect(self, sid, environ, auth):
        """Runs when the client's CONNECT for this namespace arrives, with its ``auth``."""
        verdict = await decide(self.policy, self.namespace, environ, auth)
        if isinstance(verdict, Refusal):  # the client's connect_error: message and data
            raise ConnectionRefusedError(verdict.message, {"code": verdict.code})
        await self.save_session(sid, verdict.as_dict())  # user, role, expires_at, token_id
        await self.emit("welcome", {"user": verdict.user, "role": verdict.role,
                                    "server": self.server_name}, to=sid)

    async def on_whoami(self, sid):
        """Any later event reads the identity back from the session."""
        return await self.get_session(sid)
# --8<-- [end:namespace]


# --8<-- [start:app]
def create_app(policy: Policy) -> web.Application:
    sio = socketio.AsyncServer(async_mode="aiohttp")
    for namespace in ("/", "/admin"):
        sio.register_namespace(Members(namespace, policy))
    app = web.Application()
    sio.attach(app)

    async def shutdown(app: web.Application) -> None:
        await sio.shutdown()  # disconnects the clients, stops python-engineio's ping task

    app.on_shutdown.append(shutdown)
    return app
# --8<-- [end:app]


if __name__ == "__main__":
    args = command_line("python-socketio on aiohttp", default_port=8095)
    # access_log=None: request lines would show the query, where credentials may travel
    web.run_app(create_app(real_policy()), host=args.host, port=args.port, access_log=None,
                shutdown_timeout=1)
