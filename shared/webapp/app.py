"""The web application both servers share: pages, static files, ``POST /login``, CORS."""

import logging
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
import socketio
from aiohttp import web
from redis import asyncio as aioredis

from cluster.state import RedisRevocationBus, RedisRevokedTokens, client_options
from shared.policy import Identity, Policy, is_ip_address
from shared.policy.throttle import Throttle
from shared.policy.tokens import TokenIssuer, secret_from_environment
from shared.webapp.access_log import install_log_filters
from shared.webapp.login import POLICY, SESSIONS, login, logout, logout_everywhere
from shared.webapp.redaction import redacted
from shared.webapp.sessions import LiveSessions
from socketio_handshake_auth.http import node_headers, request_of
from socketio_handshake_auth.sockets import Answer, open_session, remember

log = logging.getLogger("handshake.web")
SHARED = Path(__file__).parent
SERVER_NAME = web.AppKey("server_name", str)
ALLOWED_ORIGINS = web.AppKey("allowed_origins", tuple)
ENGINE = web.AppKey("engine", object)  # the server's LegacyServer or MiddlewareServer
PROTECT = web.AppKey("protect", object)  # wraps a handler in the app's ``protection``
MAX_SESSIONS_PER_ADDRESS = 50  # open Engine.IO sessions; a browser tab needs one


def default_policy(redis=None, redis_url: str | None = None,
                   trusted_proxies: Sequence[str] = ()) -> Policy:
    """What ``python -m`` serves: tokens signed with TOKEN_SECRET, password attempts throttled;
    with ``redis``, the throttle and the revoked tokens are shared by every node.
    ``trusted_proxies``: the load balancers whose ``X-Forwarded-For`` is believed."""
    tokens = TokenIssuer(secret_from_environment())
    if redis is None:
        return Policy(tokens, throttle=Throttle(), trusted_proxies=trusted_proxies)
    return Policy(tokens, throttle=Throttle.shared(redis_url, client_options()),
                  revoked=RedisRevokedTokens(redis), trusted_proxies=trusted_proxies)


def create_web_app(*, server_name: str, policy: Policy, templates: Path,
                   allowed_origins: Sequence[str] | None = None,
                   redis=None) -> web.Application:
    """A fresh aiohttp app; each server attaches its own Socket.IO engine to it.

    ``allowed_origins``: pages on other origins that may connect and call ``/login`` with
    credentials (exactly these, never ``*``); None allows only the server's own pages.
    """
    install_log_filters()
    origins = tuple(allowed_origins or ())
    protect = protection(origins, frozenset(urlsplit(origin).hostname for origin in origins),
                         policy.trusted_proxies)
    app = web.Application(client_max_size=64 * 1024)
    app.on_response_prepare.append(security_headers())
    app[PROTECT] = protect
    app[POLICY] = policy
    app[SESSIONS] = LiveSessions(policy, bus=RedisRevocationBus(redis) if redis else None)
    app.on_startup.append(app[SESSIONS].start)
    app.on_cleanup.append(app[SESSIONS].stop)
    if redis is not None:
        app.on_cleanup.append(lambda app: redis.aclose())
    app[SERVER_NAME] = server_name
    app[ALLOWED_ORIGINS] = origins
    setup_templates(app, templates)
    app.router.add_get("/", protect(index))
    app.router.add_route("*", "/login", protect(with_cors(login_or_preflight)))
    app.router.add_post("/logout", protect(with_cors(logout)))
    app.router.add_post("/logout-everywhere", protect(with_cors(logout_everywhere)))
    add_static(app, protect)
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
    cap_sessions_per_address(io, policy, MAX_SESSIONS_PER_ADDRESS)
    io.attach(app, wrap=app[PROTECT])
    return app


def identity_of(socket) -> Identity:
    """Who connected: 1.0+ keeps it on socket.data, 0.9 on socket.handshake."""
    return Identity.from_dict(getattr(socket, "data", None) or socket.handshake)


# --8<-- [start:admission]
def admission(io, namespace: str, sessions: LiveSessions):
    """python-socketio's ``connect`` handler for ``namespace``: it runs after the era's
    authorization and before the CONNECT is acknowledged. In both eras, a CONNECT whose
    credential has ended since the handshake (expired, revoked, its user logged out
    everywhere) is refused, and its whole connection closed."""

    async def connect(sid, environ, auth=None):
        socket = io.socket(sid, namespace)
        refusal = await sessions.admit(socket, identity_of(socket))
        if refusal is None and open_session(io.sio, socket.eio_sid):
            return True
        sessions.forget(socket)
        if refusal is None:  # the client left while it was checked: nothing to answer
            return False
        # closed once the refusal below is queued: this task does not yield before that
        sessions.close_later(socket)
        raise socketio.exceptions.ConnectionRefusedError(refusal.message,
                                                         {"code": refusal.code})

    return connect
# --8<-- [end:admission]


async def join_user_room(socket) -> None:
    """Emits to ``user:<name>`` reach the user's sockets on any node."""
    await socket.enter_room(f"user:{identity_of(socket).user}")


def cap_sessions_per_address(io, policy: Policy, limit: int) -> None:
    """At most ``limit`` open Engine.IO sessions per client address (behind a trusted proxy,
    the forwarded one): a new handshake beyond that gets 429, before it is authorized.

    It runs where python-engineio opens a session (its connect handler), which no handshake
    gets past, and costs the requests that are not handshakes nothing. A handshake counts from
    the moment it arrives, not once authorized: concurrent ones cannot slip past."""
    open_by_address: Counter[str] = Counter()
    address_of: dict[str, str] = {}
    eio = io.sio.eio
    on_connect, on_disconnect = eio.handlers["connect"], eio.handlers["disconnect"]

    def release(eio_sid):
        address = address_of.pop(eio_sid, None)
        if address is not None:
            open_by_address[address] -= 1
            if not open_by_address[address]:
                del open_by_address[address]

    async def connect(eio_sid, environ):
        request = request_of(environ)
        address = policy.client(request.remote, node_headers(request))
        if open_by_address[address] >= limit:
            log.info("refused a connection: %d open from one address", limit,
                     extra={"refusal": "too_many_sessions"})
            remember(environ, Answer(429, "too many open connections"))
            return False
        open_by_address[address] += 1
        address_of[eio_sid] = address
        try:
            result = await on_connect(eio_sid, environ)
        except BaseException:
            release(eio_sid)
            raise
        if result is not None and result is not True:  # refused, as python-engineio reads
            release(eio_sid)  # it: the session is dropped, and no disconnect follows
        return result

    async def disconnect(eio_sid, reason):
        release(eio_sid)
        return await on_disconnect(eio_sid, reason)

    eio.on("connect", connect)
    eio.on("disconnect", disconnect)


async def show_handshake(socket, *args):
    """The ``handshake`` event: what the server keeps for this socket, secrets hidden."""
    return redacted(socket.handshake)


def setup_templates(app: web.Application, *folders: Path) -> None:
    """Each server's own templates first, then the shared ones they extend."""
    loaders = [jinja2.FileSystemLoader(folder) for folder in (*folders, SHARED / "templates")]
    aiohttp_jinja2.setup(app, loader=jinja2.ChoiceLoader(loaders), autoescape=True)


def add_static(app: web.Application, protect=lambda handler: handler) -> None:
    """``/static/…``: exactly the files in shared/static when the app starts, nothing else
    (no path is ever joined from what the client sent)."""
    folder = SHARED / "static"
    files = {path.relative_to(folder).as_posix(): path
             for path in folder.rglob("*") if path.is_file()}

    async def static(request: web.Request) -> web.StreamResponse:
        path = files.get(request.match_info["name"])
        if path is None:
            raise web.HTTPNotFound()
        return web.FileResponse(path)

    app.router.add_get("/static/{name:.+}", protect(static))


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


# --8<-- [start:guard]
def foreign_request(request: web.Request, allowed_origins: tuple,
                    allowed_hosts: frozenset) -> web.Response | None:
    """What a browser lets another page do with the user's cookie, refused here:

    - a ``Host`` the server does not answer to: DNS rebinding (evil.example resolved to this
      server makes the attacker's page same-origin with it, so Host and Origin agree);
    - an ``Origin`` that is neither the server's own nor allowed: cross-site WebSocket
      hijacking, and a login or logout forged by another site;
    - no ``Origin`` but ``Sec-Fetch-Site`` same-site or cross-site: a ``<script>`` or ``<img>``
      on another port or site, which sends the cookie (SameSite counts ports as one site) and
      no Origin. Clients that are not browsers send neither header and are not affected.
    """
    host, path = request.host, request.path
    if not known_host(host, allowed_hosts):
        log.info("refused host on %s", path, extra={"refusal": "unknown_host"})
        return web.Response(status=421, text="unknown host")
    if path != "/" and not path.startswith("/static/"):
        origin = request.headers.get("Origin")
        if origin:
            allowed = origin == f"{request.scheme}://{host}" or origin in allowed_origins
        else:
            allowed = request.headers.get("Sec-Fetch-Site") not in ("same-site", "cross-site")
        if not allowed:
            log.info("refused origin %s on %s", origin or "(none)", path,
                     extra={"refusal": "foreign_origin"})
            return web.Response(status=403, text="origin not allowed")
    return None
# --8<-- [end:guard]


def known_host(host_header: str, allowed_hosts: frozenset) -> bool:
    """An address, ``localhost``, or the host of an allowed origin: never a name an attacker
    could point at this server."""
    host = urlsplit(f"//{host_header}").hostname or ""
    return host == "localhost" or host in allowed_hosts or is_ip_address(host)


def protection(allowed_origins: tuple, allowed_hosts: frozenset,
               trusted_proxies: frozenset = frozenset()):
    """A function that wraps a handler: a ``foreign_request`` is refused before it runs, and
    the handler gets the request as the client made it (``as_forwarded``). Every route of the
    app is wrapped (the engine's too), instead of an aiohttp middleware: an app with any
    middleware pays for aiohttp's middleware chain on every request, and a polling handshake
    makes four (docs/reference/performance.md)."""

    def protect(handler):
        async def protected(request: web.Request) -> web.StreamResponse:
            request = as_forwarded(request, trusted_proxies)
            refusal = foreign_request(request, allowed_origins, allowed_hosts)
            return refusal if refusal is not None else await handler(request)

        return protected

    return protect


# --8<-- [start:forwarded]
UNIX_PEER = "unix"  # a Unix-socket peer, as ``--trust-proxy unix`` names it


def as_forwarded(request: web.Request, trusted_proxies: frozenset) -> web.Request:
    """The request with its peer named, and its scheme as the client used it.

    aiohttp gives a Unix-socket peer the address "" (a TCP peer always has one): it is named
    ``unix``, so that a balancer on a Unix socket can be trusted and no TCP client ever is. A
    trusted proxy's ``X-Forwarded-Proto: https`` makes the request https for every handler
    (the origin check, the login cookie, the handshake's ``secure``); anyone else's is ignored.
    The usual request, on TCP and not forwarded over TLS, is not copied."""
    peer = UNIX_PEER if request.remote == "" else request.remote
    https = (peer in trusted_proxies and not request.secure
             and request.headers.get("X-Forwarded-Proto") == "https")
    if https:
        return request.clone(remote=peer, scheme="https")
    return request if peer == request.remote else request.clone(remote=peer)
# --8<-- [end:forwarded]


def security_headers(connect_sources: Sequence[str] = ()):
    """An ``on_response_prepare`` hook: every answer, aiohttp's own (a 404) and a refusal
    too, gets the security headers."""
    policy = content_security_policy(connect_sources)

    async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
        with_security_headers(response, policy)

    return add_headers


def content_security_policy(connect_sources: Sequence[str]) -> str:
    """Only this server's own scripts and styles, and connections to it and to
    ``connect_sources``."""
    sources = " ".join(["'self'", *connect_sources,
                        *(s.replace("http", "ws", 1) for s in connect_sources)])
    return (f"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src {sources}; form-action 'self'; base-uri 'none'; "
            f"frame-ancestors 'none'")


def with_security_headers(response: web.StreamResponse, policy: str) -> web.StreamResponse:
    """Every answer: ``nosniff``; pages: the Content-Security-Policy."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    # the header as written, not ``response.content_type``, which parses it on every answer
    if response.headers.get("Content-Type", "").startswith("text/html"):
        response.headers["Content-Security-Policy"] = policy
    return response


def with_cors(handler):
    """``/login`` and the logouts answer the allowed origins' pages with credentialed CORS."""

    async def answer(request: web.Request) -> web.StreamResponse:
        response = await handler(request)
        origin = request.headers.get("Origin")
        if origin in request.app[ALLOWED_ORIGINS]:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Vary"] = "Origin"
        return response

    return answer
