"""What the engines answer over HTTP instead of python-engineio: 0.9's handshake refusals and
the session cap's 429 (``HttpRefusal``), JSONP refused, an oversized polling post refused at
once; under aiohttp (``guarded``) and under ASGI (``AsgiRefusals``, ``refuse_jsonp_asgi``)."""

import logging
from dataclasses import dataclass
from urllib.parse import parse_qs

from aiohttp import web

log = logging.getLogger("handshake.engine")

# python-engineio's default is 1 MB; an auth payload never needs more than a few hundred bytes.
MAX_PACKET_BYTES = 64 * 1024


@dataclass(frozen=True)
class HttpRefusal:
    """The HTTP answer a handshake refused in python-engineio's connect handler gets instead
    of python-engineio's own 401 (``refuse_with`` it there): 0.9's answers, the session cap's
    429."""

    status: int
    body: str
    origin: str | None = None  # 0.9 added CORS headers for it to 200, 403 and 500 answers

    @property
    def headers(self) -> list[tuple[str, str]]:
        cors = [("Access-Control-Allow-Origin", self.origin),
                ("Access-Control-Allow-Credentials", "true")] if self.origin else []
        return [("Content-Type", "text/plain"), *cors]  # 0.9's, without a charset


REFUSAL = web.RequestKey("refusal", HttpRefusal)
ASGI_REFUSAL = "socketio_handshake_auth.refusal"  # the same, in an ASGI scope


def refuse_with(environ: dict, refusal: HttpRefusal) -> None:
    """Answer this handshake with ``refusal`` (its connect handler then returns False)."""
    if "aiohttp.request" in environ:
        environ["aiohttp.request"][REFUSAL] = refusal
    else:
        environ["asgi.scope"][ASGI_REFUSAL] = refusal


def guarded(handle_request, jsonp: bool):
    """python-engineio's aiohttp handler, behind what every request to its path must pass
    (a wrapper of that one route: the app's other routes are not the engine's business).

    - JSONP polling (``?j=``) gets 400, unless ``jsonp``. A JSONP answer is a script, and a
      ``<script>`` tag on any page, same site or not, sends the user's cookie and no
      ``Origin``: that page would read the session id and drive an authenticated session.
      Engine.IO clients use it only for browsers without CORS (IE 9).
    - A polling POST over MAX_PACKET_BYTES gets 413 at once. python-engineio would answer it
      only after closing the session, which waits for a long-poll that may never come.
    - A handshake refused with an ``HttpRefusal`` gets that answer.
    """

    async def guard(request: web.Request) -> web.StreamResponse:
        if not jsonp and asks_for_jsonp(request.query_string):
            log.info("JSONP polling refused", extra={"refusal": "jsonp_disabled"})
            return web.Response(status=400, text="JSONP polling is disabled")
        if (request.content_length or 0) > MAX_PACKET_BYTES:
            log.info("oversized packet refused (%d bytes)", request.content_length)
            return web.Response(status=413, text="payload too large")
        response = await handle_request(request)
        # python-engineio refuses a handshake with 400 or 401; only then can there be an
        # HttpRefusal (a missing key costs aiohttp's request an exception, on every request)
        refusal = request.get(REFUSAL) if response.status >= 400 else None
        if refusal is None:
            return response
        # bytes, so that aiohttp adds no charset to the Content-Type 0.9 sent
        return web.Response(status=refusal.status, body=refusal.body.encode(),
                            headers=refusal.headers)

    return guard


def asks_for_jsonp(query_string: str) -> bool:
    """Does python-engineio see ``j`` in this query (a name, percent-decoded, with a value
    that is not empty)? Read as it reads it, with ``parse_qs``."""
    return "j" in parse_qs(query_string, errors="replace")


class AsgiRefusals:
    """``guarded``'s last rule for ASGI: wraps ``socketio.ASGIApp``."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_refusal(message):
            refusal = scope.get(ASGI_REFUSAL)
            if refusal is None:
                return await send(message)
            if message["type"] == "http.response.start":
                await send({"type": "http.response.start", "status": refusal.status,
                            "headers": [(k.lower().encode(), v.encode())
                                        for k, v in refusal.headers]})
                await send({"type": "http.response.body", "body": refusal.body.encode()})

        await self.app(scope, receive, send_refusal)


def refuse_jsonp_asgi(app, path: str):
    """``guarded``'s JSONP rule for ASGI."""

    async def refuse_jsonp(scope, receive, send):
        query = scope.get("query_string", b"").decode("latin-1")
        if scope["type"] == "http" and under(scope["path"], path) and asks_for_jsonp(query):
            log.info("JSONP polling refused", extra={"refusal": "jsonp_disabled"})
            await send({"type": "http.response.start", "status": 400,
                        "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"JSONP polling is disabled"})
            return
        await app(scope, receive, send)

    return refuse_jsonp


def under(request_path: str, path: str) -> bool:
    """Does python-engineio answer this path? It takes ``/socket.io`` and ``/socket.io/…``
    alike, so the guards must too."""
    return (request_path.rstrip("/") + "/").startswith(path)
