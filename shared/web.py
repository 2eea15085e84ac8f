"""The web application both servers share: pages, static files, ``POST /login``."""

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from shared.login import POLICY, login
from shared.policy import Policy
from shared.tokens import TokenIssuer, secret_from_environment

SHARED = Path(__file__).parent
SERVER_NAME = web.AppKey("server_name", str)


def default_policy() -> Policy:
    return Policy(TokenIssuer(secret_from_environment()))


def create_web_app(*, server_name: str, policy: Policy, templates: Path) -> web.Application:
    """A fresh aiohttp app; each server attaches its own Socket.IO engine to it."""
    app = web.Application(client_max_size=64 * 1024)
    app[POLICY] = policy
    app[SERVER_NAME] = server_name
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.ChoiceLoader(
            [jinja2.FileSystemLoader(templates), jinja2.FileSystemLoader(SHARED / "templates")]
        ),
        autoescape=True,
    )
    app.router.add_get("/", index)
    app.router.add_post("/login", login)
    app.router.add_static("/static/", SHARED / "static")
    return app


async def index(request: web.Request) -> web.Response:
    return aiohttp_jinja2.render_template(
        "index.html", request, {"server_name": request.app[SERVER_NAME]}
    )
