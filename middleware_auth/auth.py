"""User code, 1.0+ style: the middlewares an app author hands to ``io.use(…)``.

Socket.IO 1.0+ (Node):  io.use(function (socket, next) {…})
"""

from aiohttp_session import get_session

from shared.policy import Identity, Policy, Refusal, credentials_in
from socketio_handshake_auth import ExtendedError


def make_authenticate(policy: Policy):
    # --8<-- [start:authorize]
    async def authenticate(socket, next):
        """Runs once per namespace connection attempt, when the client's CONNECT arrives."""
        handshake = socket.handshake
        presented = credentials_in(handshake, await get_session(socket.aiohttp_request))
        client = policy.client(handshake["address"], handshake["headers"])
        verdict = await policy.authenticate(presented, client=client)
        if isinstance(verdict, Refusal):
            # the client's connect_error: err.message and err.data
            return next(ExtendedError(verdict.message, {"code": verdict.code}))
        socket.data.update(verdict.as_dict())  # socket.data: what later handlers read
        next()
    # --8<-- [end:authorize]

    return authenticate


def make_require_admin(policy: Policy):
    # --8<-- [start:namespace]
    def require_admin(socket, next):
        """Runs after authenticate, for /admin only: io.of('/admin').use(…)."""
        identity = Identity(socket.data["user"], socket.data["role"])
        refusal = policy.authorize_namespace(identity, socket.nsp)
        if refusal:
            return next(ExtendedError(refusal.message, {"code": refusal.code}))
        next()
    # --8<-- [end:namespace]

    return require_admin
