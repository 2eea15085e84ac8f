"""create_app(): the 0.9-style server, wired: engine + authorization + shared pages."""

from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from legacy_authorization import auth
from shared.policy import Policy
from shared.webapp.app import create_server_app, default_policy, redis_for
from socketio_handshake_auth.legacy import LegacyServer

SERVER_NAME = "legacy"


# --8<-- [start:wire]
def wire(io: LegacyServer, policy: Policy) -> None:
    """0.9: one global authorization function, plus one for the /admin namespace."""
    io.set("authorization", auth.make_authorization(policy))
    io.of("/admin").authorization(auth.make_admin_authorization(policy))
# --8<-- [end:wire]


def create_app(*, policy: Policy | None = None, authorization_timeout: float = 10.0,
               allowed_origins: Sequence[str] | None = None,
               redis_url: str | None = None, trusted_proxies: Sequence[str] = (),
               session_ttl: int | None = None,
               ) -> web.Application:
    """``allowed_origins``: other page origins that may connect; None: the server's own only.
    ``redis_url``: share state with other nodes."""
    redis, cluster = redis_for(redis_url)
    policy = policy or default_policy(redis, redis_url, trusted_proxies, session_ttl)
    io = LegacyServer(**cluster)
    io.set("authorization timeout", authorization_timeout)
    wire(io, policy)
    io.sockets.on("connection", on_connection)
    io.of("/admin").on("connection", on_connection)
    return create_server_app(io, server_name=SERVER_NAME, policy=policy, redis=redis,
                             allowed_origins=allowed_origins,
                             templates=Path(__file__).parent / "templates")


# --8<-- [start:connection]
async def on_connection(socket) -> None:
    """Who is this? 0.9 apps read what authorization put on socket.handshake."""
    user, role = socket.handshake["user"], socket.handshake["role"]
    await socket.emit("welcome", {"user": user, "role": role, "server": SERVER_NAME})
# --8<-- [end:connection]
