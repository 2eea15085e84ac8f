"""python-socketio's own pattern in Flask-SocketIO: sync handlers, one thread per request.

``python -m examples.native.flask_app`` serves it on http://127.0.0.1:8097/.
"""

import asyncio
import logging
import threading

from flask import Flask, request, session
from flask_socketio import Namespace, SocketIO, emit
from socketio.exceptions import ConnectionRefusedError

from examples.native import command_line, real_policy
from examples.native.handshake import decide
from shared.policy import Policy, Refusal

SERVER = "native-flask"


# --8<-- [start:loop]
class PolicyLoop:
    """Runs the async policy for sync handlers: one event loop, on a thread of its own, for
    every call. Not ``asyncio.run()`` per connect: that makes a new loop each time, and the
    policy's throttle keeps asyncio state (locks, an expiry timer) that must stay on one."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine):
        """The coroutine's result; the calling (request) thread waits for it."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()
# --8<-- [end:loop]


# --8<-- [start:namespace]
class Members(Namespace):
    """One instance per namespace; the policy knows which namespace wants which role."""

    def __init__(self, namespace: str, policy: Policy, policy_loop: PolicyLoop):
        super().__init__(namespace)
        self.policy, self.policy_loop = policy, policy_loop

    def on_connect(self, auth):
        """Runs when the client's CONNECT for this namespace arrives, with its ``auth``."""
        verdict = self.policy_loop.run(
            decide(self.policy, self.namespace, request.environ, auth))
        if isinstance(verdict, Refusal):  # the client's connect_error: message and data
            raise ConnectionRefusedError(verdict.message, {"code": verdict.code})
        # Flask-SocketIO's session belongs to the connection (a copy of the HTTP session),
        # shared by its namespaces, which may each authenticate differently: key it
        session[self.namespace] = verdict.as_dict()  # user, role, expires_at, token_id
        emit("welcome", {"user": verdict.user, "role": verdict.role, "server": SERVER})

    def on_whoami(self):
        """Any later event reads the identity back from the session."""
        return session.get(self.namespace)
# --8<-- [end:namespace]


# --8<-- [start:app]
def create_app(policy: Policy) -> Flask:
    app = Flask(__name__)
    socketio = SocketIO(app, async_mode="threading")  # now in app.extensions["socketio"]
    policy_loop = app.extensions["policy_loop"] = PolicyLoop()
    for namespace in ("/", "/admin"):
        socketio.on_namespace(Members(namespace, policy, policy_loop))
    return app
# --8<-- [end:app]


if __name__ == "__main__":
    args = command_line("python-socketio in Flask-SocketIO", default_port=8097)
    # werkzeug logs request lines at INFO: they show the query, where credentials may travel
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = create_app(real_policy())
    # the Werkzeug development server, as Flask-SocketIO's threading mode runs it; in
    # production, run the app with gunicorn's threads instead (Flask-SocketIO's docs)
    app.extensions["socketio"].run(app, host=args.host, port=args.port,
                                   allow_unsafe_werkzeug=True)
