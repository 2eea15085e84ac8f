"""create_app(): the 0.9-style server, wired: engine + authorization + shared pages."""

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from legacy_authorization import auth
from legacy_authorization.server import LegacyServer
from shared.handshake import redacted
from shared.policy import Policy
from shared.web import ENGINE, create_web_app, default_policy

SERVER_NAME = "legacy"


# --8<-- [start:wire]
def wire(io: LegacyServer, policy: Policy) -> None:
    """0.9: one global authorization function, plus one for the /admin namespace."""
    io.set("authorization", auth.make_authorization(policy))
    io.of("/admin").authorization(auth.make_admin_authorization(policy))
# --8<-- [end:wire]


def create_app(*, policy: Policy | None = None, authorization_timeout: float = 10.0,
               allowed_origins: Sequence[str] | None = None) -> web.Application:
    """``allowed_origins``: the page origins that may connect; None is 0.9's ``*:*``."""
    policy = policy or default_policy()
    io = LegacyServer()
    io.set("authorization timeout", authorization_timeout)
    if allowed_origins is not None:  # 0.9 spelled them host:port
        io.set("origins", " ".join(f"{urlsplit(o).hostname}:{urlsplit(o).port or 80}"
                                   for o in allowed_origins))
    wire(io, policy)
    for namespace in (io.sockets, io.of("/admin")):
        namespace.on("connection", welcome).on("handshake", show_handshake)
    app = create_web_app(server_name=SERVER_NAME, policy=policy, allowed_origins=allowed_origins,
                         templates=Path(__file__).parent / "templates")
    app[ENGINE] = io
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
