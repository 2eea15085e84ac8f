"""The web application both servers share: its factory, pages, static files and routes."""

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
import socketio
from aiohttp import web
from redis import asyncio as aioredis

from shared.policy import Policy
from shared.policy.session_store import SESSION_TTL_SECONDS, SessionStore
from shared.policy.throttle import Throttle
from shared.policy.tokens import TokenIssuer, secret_from_environment
from shared.redis_state import RedisRevocationBus, RedisRevokedTokens, client_options
from shared.webapp.access_log import install_log_filters
from shared.webapp.connections import (
    admission,
    cap_sessions_per_address,
    join_user_room,
    show_handshake,
)
from shared.webapp.login import POLICY, SESSIONS, login, logout, logout_everywhere
from shared.webapp.protection import (
    ALLOWED_ORIGINS,
    guard,
    names_too_long_are_not_found,
    security_headers,
    with_cors,
)
from shared.webapp.sessions import LiveSessions

SHARED = Path(__file__).parent
SERVER_NAME = web.AppKey("server_name", str)
ENGINE = web.AppKey("engine", object)  # the server's LegacyServer or MiddlewareServer


def default_policy(redis=None, redis_url: str | None = None,
                   trusted_proxies: Sequence[str] = (), session_ttl: int | None = None) -> Policy:
    """What ``python -m`` serves: tokens signed with TOKEN_SECRET, password attempts throttled,
    login sessions that last ``session_ttl`` seconds (default: an hour); with ``redis``, the
    throttle, the revoked tokens and the sessions are shared by every node.
    ``trusted_proxies``: the load balancers whose ``X-Forwarded-For`` is believed."""
    tokens = TokenIssuer(secret_from_environment())
    ttl = session_ttl or SESSION_TTL_SECONDS
    if redis is None:
        return Policy(tokens, throttle=Throttle(), trusted_proxies=trusted_proxies,
                      sessions=SessionStore.in_memory(ttl))
    return Policy(tokens, throttle=Throttle.shared(redis_url, client_options()),
                  revoked=RedisRevokedTokens(redis), trusted_proxies=trusted_proxies,
                  sessions=SessionStore.in_redis(redis, ttl))


def create_web_app(*, server_name: str, policy: Policy, templates: Path,
                   allowed_origins: Sequence[str] | None = None,
                   redis=None) -> web.Application:
    """A fresh aiohttp app; each server attaches its own Socket.IO engine to it.

    ``allowed_origins``: pages on other origins that may connect and call ``/login`` with
    credentials (exactly these, never ``*``); None allows only the server's own pages.
    """
    install_log_filters()
    origins = tuple(allowed_origins or ())
    hosts = frozenset(urlsplit(origin).hostname for origin in origins)
    # the guard first: the session middleware gets the request as the client made it (https
    # behind a TLS proxy reads __Host-session), and every route reads the session through it,
    # the engine's too (as Socket.IO 4's io.engine.use(sessionMiddleware))
    app = web.Application(client_max_size=64 * 1024,
                          middlewares=[guard(origins, hosts, policy.trusted_proxies),
                                       names_too_long_are_not_found,
                                       policy.sessions.middleware()])
    app.on_response_prepare.append(security_headers())
    app[POLICY] = policy
    app[SESSIONS] = LiveSessions(policy, bus=RedisRevocationBus(redis) if redis else None)
    app.on_startup.append(app[SESSIONS].start)
    app.on_cleanup.append(app[SESSIONS].stop)
    if redis is not None:
        app.on_cleanup.append(lambda app: redis.aclose())
    app[SERVER_NAME] = server_name
    app[ALLOWED_ORIGINS] = origins
    setup_templates(app, templates)
    app.router.add_get("/", index)
    app.router.add_route("*", "/login", with_cors(login_or_preflight))
    app.router.add_post("/logout", with_cors(logout))
    app.router.add_post("/logout-everywhere", with_cors(logout_everywhere))
    add_static(app)
    return app


def redis_for(redis_url: str | None) -> tuple[object, dict]:
    """With ``--redis``: a client for the shared state, and the python-socketio option that
    makes emits reach sockets held by other nodes. Without: nothing to share."""
    if not redis_url:
        return None, {}
    manager = socketio.AsyncRedisManager(redis_url, redis_options=client_options())
    return aioredis.from_url(redis_url, **client_options()), {"client_manager": manager}


def create_server_app(io, *, server_name: str, policy: Policy, templates: Path,
                      allowed_origins: Sequence[str] | None = None,
                      redis=None) -> web.Application:
    """The shared web app with a Socket.IO engine attached. On every namespace the app
    registered: every CONNECT checked against revocation and expiry before it is
    acknowledged, live sessions (ended when their credential ends), a room per user, and the
    ``handshake`` acknowledgement. The app's own ``connection`` listener says welcome."""
    app = create_web_app(server_name=server_name, policy=policy, templates=templates,
                         allowed_origins=allowed_origins, redis=redis)
    sessions = app[SESSIONS]
    for name, namespace in io.namespaces.items():
        io.sio.on("connect", admission(io, name, sessions), namespace=name)
        namespace.on("connection", join_user_room).on("handshake", show_handshake)
        namespace.on("disconnect", sessions.disconnected)
    app[ENGINE] = io
    cap_sessions_per_address(io, policy)
    io.attach(app)
    return app


def setup_templates(app: web.Application, *folders: Path) -> None:
    """Each server's own templates first, then the shared ones they extend."""
    loaders = [jinja2.FileSystemLoader(folder) for folder in (*folders, SHARED / "templates")]
    aiohttp_jinja2.setup(app, loader=jinja2.ChoiceLoader(loaders), autoescape=True)


def add_static(app: web.Application) -> None:
    """``/static/…``: the files in shared/static, by aiohttp's own static route (no listing,
    no symbolic links, no path out of the folder)."""
    app.router.add_static("/static", SHARED / "static", follow_symlinks=False)


async def index(request: web.Request) -> web.Response:
    return aiohttp_jinja2.render_template(
        "index.html", request, {"server_name": request.app[SERVER_NAME], "static": "/static"}
    )


async def login_or_preflight(request: web.Request) -> web.StreamResponse:
    """``/login`` answers the CORS preflight a cross-origin JSON POST sends first."""
    if request.method == "OPTIONS":
        return web.Response(status=204)
    if request.method != "POST":
        raise web.HTTPMethodNotAllowed(request.method, ["POST", "OPTIONS"])
    return await login(request)


