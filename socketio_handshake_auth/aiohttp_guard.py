"""``guarded``: the engines' HTTP refusals under aiohttp, which ``Engine.attach(app)`` serves.
The only module that imports aiohttp, installed with the ``aiohttp`` extra; under ASGI
(``refusals.AsgiRefusals``) nothing imports it."""

import logging

try:
    from aiohttp import web
except ModuleNotFoundError as missing:  # served under ASGI, installed without the extra
    raise ImportError("serving on aiohttp (Engine.attach) needs aiohttp: "
                      "pip install 'socketio-handshake-auth[aiohttp]'",
                      name=missing.name) from missing

from socketio_handshake_auth.refusals import (
    HttpRefusal,
    asks_for_jsonp,
    readable_payload,
)

log = logging.getLogger("handshake.engine")

REFUSAL = web.RequestKey("refusal", HttpRefusal)  # what ``refuse_with`` keeps on the request


def guarded(handle_request, jsonp: bool, max_bytes: int):
    """python-engineio's aiohttp handler, behind what every request to its path must pass
    (a wrapper of that one route: the app's other routes are not the engine's business).

    - JSONP polling (``?j=``) gets 400, unless ``jsonp``. A JSONP answer is a script, and a
      ``<script>`` tag on any page of the site (of any site, for a ``SameSite=None`` cookie)
      sends the user's cookie and no ``Origin``: that page would read the session id and
      drive an authenticated session. socket.io-client 4 never asks for it.
    - A polling POST over ``max_bytes`` (python-engineio's ``max_http_buffer_size``, which
      its handshake tells clients) gets 413 at once. python-engineio would answer it only
      after closing the session, which waits for a long-poll that may never come.
    - A polling POST python-engineio cannot take gets 400 (``readable_payload``).
    - A handshake refused with an ``HttpRefusal`` gets that answer.
    """

    async def guard(request: web.Request) -> web.StreamResponse:
        if not jsonp and asks_for_jsonp(request.query_string):
            log.info("JSONP polling refused", extra={"refusal": "jsonp_disabled"})
            return web.Response(status=400, text="JSONP polling is disabled")
        if (request.content_length or 0) > max_bytes:
            log.info("oversized packet refused (%d bytes)", request.content_length)
            return web.Response(status=413, text="payload too large")
        engine_request: web.Request | BodyRead = request
        if request.method == "POST":
            body = await request.read()  # within client_max_size; kept for python-engineio
            if len(body) > max_bytes:  # chunked: no Content-Length said so before
                log.info("oversized packet refused (%d bytes)", len(body))
                return web.Response(status=413, text="payload too large")
            if not readable_payload(body):
                log.info("unreadable polling payload refused")
                return web.Response(status=400, text="bad payload")
            engine_request = BodyRead(request, body)
        response = await handle_request(engine_request)
        # python-engineio refuses a handshake with 400 or 401; only then can there be an
        # HttpRefusal (a missing key costs aiohttp's request an exception, on every request)
        refusal = request.get(REFUSAL) if response.status >= 400 else None
        if refusal is None:
            return response
        # bytes, so that aiohttp adds no charset to the Content-Type 0.9 sent
        return web.Response(status=refusal.status, body=refusal.body.encode(),
                            headers=refusal.headers)

    return guard


class BodyRead:
    """The request, for python-engineio, once the guard has read its body: python-engineio
    reads ``request.content``, a stream that can be read once, so it gets the bytes read."""

    def __init__(self, request: web.Request, body: bytes):
        self._request = request
        self.content = Replay(body)

    def __getattr__(self, name: str):
        return getattr(self._request, name)

    def __getitem__(self, key):
        return self._request[key]

    def __setitem__(self, key, value) -> None:
        self._request[key] = value

    def get(self, key, default=None):
        return self._request.get(key, default)


class Replay:
    """``request.content`` as python-engineio reads it: ``await read(length)``."""

    def __init__(self, body: bytes):
        self.body = body

    async def read(self, length: int = -1) -> bytes:
        return self.body if length < 0 else self.body[:length]  # as StreamReader.read does
