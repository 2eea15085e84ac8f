"""create_app(): the 1.0+-style server, wired: engine + middlewares + shared pages."""

from collections.abc import Callable, Sequence
from pathlib import Path

from aiohttp import web

from middleware_auth import auth
from shared.policy import Policy
from shared.webapp.app import create_server_app, default_policy, redis_for
from socketio_handshake_auth.middleware import MiddlewareServer

SERVER_NAME = "middleware"


# --8<-- [start:wire]
def wire(io: MiddlewareServer, policy: Policy) -> None:
    """1.0+: a chain per namespace; io.use() does not run for a client of /admin."""
    io.use(auth.make_authenticate(policy))
    io.of("/admin").use(auth.make_authenticate(policy)).use(auth.make_require_admin(policy))
# --8<-- [end:wire]


def create_app(*, policy: Policy | None = None, middleware_timeout: float = 10.0,
               allowed_origins: Sequence[str] | None = None,
               redis_url: str | None = None, trusted_proxies: Sequence[str] = (),
               session_ttl: int | None = None,
               wiring: Callable[[MiddlewareServer, Policy], None] = wire) -> web.Application:
    """``allowed_origins``: other page origins that may connect; None: the server's own only.
    ``redis_url``: share state with other nodes. ``wiring``: the migration guide's steps."""
    redis, cluster = redis_for(redis_url)
    policy = policy or default_policy(redis, redis_url, trusted_proxies, session_ttl)
    io = MiddlewareServer(middleware_timeout=middleware_timeout,
                          cors_allowed_origins=list(allowed_origins or []) or None,
                          cors_credentials=True, **cluster)
    wiring(io, policy)
    io.on("connection", on_connection)
    io.of("/admin").on("connection", on_connection)
    return create_server_app(io, server_name=SERVER_NAME, policy=policy, redis=redis,
                             allowed_origins=allowed_origins,
                             templates=Path(__file__).parent / "templates")


# --8<-- [start:connection]
async def on_connection(socket) -> None:
    """Who is this? 1.0+ apps read what the middlewares put on socket.data."""
    user, role = socket.data["user"], socket.data["role"]
    await socket.emit("welcome", {"user": user, "role": role, "server": SERVER_NAME})
# --8<-- [end:connection]
