"""create_app(): the 0.9-style server, wired: engine + authorization + shared pages."""

from pathlib import Path

from aiohttp import web

from legacy_authorization import auth
from legacy_authorization.server import LegacyServer
from shared.handshake import redacted
from shared.policy import Policy
from shared.web import create_web_app, default_policy

SERVER_NAME = "legacy"
IO = web.AppKey("io", LegacyServer)


def create_app(*, policy: Policy | None = None, authorization_timeout: float = 10.0,
               origins: str = "*:*") -> web.Application:
    policy = policy or default_policy()
    # --8<-- [start:wire]
    io = LegacyServer()
    io.set("authorization", auth.make_authorization(policy))
    io.of("/admin").authorization(auth.make_admin_authorization(policy))
    # --8<-- [end:wire]
    io.set("authorization timeout", authorization_timeout)
    io.set("origins", origins)
    for namespace in (io.sockets, io.of("/admin")):
        namespace.on("connection", welcome).on("handshake", show_handshake)
    app = create_web_app(server_name=SERVER_NAME, policy=policy,
                         templates=Path(__file__).parent / "templates")
    app[IO] = io
    io.attach(app)
    return app


# --8<-- [start:connection]
async def welcome(socket):
    """Who is this? 0.9 apps read what authorization put on socket.handshake."""
    identity = {"user": socket.handshake["user"], "role": socket.handshake["role"]}
    await socket.emit("welcome", {**identity, "server": SERVER_NAME})
# --8<-- [end:connection]


async def show_handshake(socket, *args):
    return redacted(socket.handshake)
