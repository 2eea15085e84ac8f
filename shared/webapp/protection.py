"""What protects every answer of the app: the origin and Host guard (an aiohttp middleware),
the request as the client made it behind a trusted proxy, security headers, and the
credentialed CORS of ``/login`` and the logouts."""

import errno
import logging
from collections.abc import Sequence
from urllib.parse import urlsplit

from aiohttp import web

from shared.policy import is_ip_address

log = logging.getLogger("handshake.web")
ALLOWED_ORIGINS = web.AppKey("allowed_origins", tuple)


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
    try:
        host = urlsplit(f"//{host_header}").hostname or ""
    except ValueError:  # "[", "a]b": no host at all, let alone a known one
        return False
    return host == "localhost" or host in allowed_hosts or is_ip_address(host)


def guard(allowed_origins: tuple, allowed_hosts: frozenset,
          trusted_proxies: frozenset = frozenset()):
    """An aiohttp middleware, on every route the app answers (the engine's too): a
    ``foreign_request`` is refused before its handler runs, and the handler gets the request
    as the client made it (``as_forwarded``)."""

    @web.middleware
    async def protect(request: web.Request, handler) -> web.StreamResponse:
        request = as_forwarded(request, trusted_proxies)
        refusal = foreign_request(request, allowed_origins, allowed_hosts)
        return refusal if refusal is not None else await handler(request)

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


@web.middleware
async def names_too_long_are_not_found(request: web.Request, handler) -> web.StreamResponse:
    """A path segment longer than the file system allows makes aiohttp's static route raise
    ``OSError`` (ENAMETOOLONG), a 500: no file has such a name, so it is a 404."""
    try:
        return await handler(request)
    except OSError as error:
        if error.errno != errno.ENAMETOOLONG:
            raise
        raise web.HTTPNotFound() from None
