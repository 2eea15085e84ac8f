"""What the engines answer over HTTP instead of python-engineio: 0.9's handshake refusals and
the session cap's 429 (``HttpRefusal``), JSONP refused, an oversized polling post refused at
once; under ASGI here (``AsgiRefusals``, ``refuse_jsonp_asgi``), under aiohttp in
``aiohttp_guard`` (``guarded``), which only an app served on aiohttp imports."""

import asyncio
import logging
from dataclasses import dataclass
from urllib.parse import parse_qs

from engineio import packet
from engineio.payload import Payload

log = logging.getLogger("handshake.engine")

# python-engineio's default is 1 MB; an auth payload never needs more than a few hundred bytes.
MAX_PACKET_BYTES = 64 * 1024
BODY_SECONDS = 10  # under ASGI, how long a polling POST may take to send its body
# the packets python-engineio's socket takes from a client (``AsyncSocket.receive``)
FROM_CLIENTS = frozenset({packet.PONG, packet.MESSAGE, packet.UPGRADE, packet.CLOSE})


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


ASGI_REFUSAL = "socketio_handshake_auth.refusal"  # kept in the ASGI scope for AsgiRefusals


def refuse_with(environ: dict, refusal: HttpRefusal) -> None:
    """Answer this handshake with ``refusal`` (its connect handler then returns False)."""
    if "aiohttp.request" in environ:  # served by aiohttp, so aiohttp is there to import
        from socketio_handshake_auth.aiohttp_guard import REFUSAL

        environ["aiohttp.request"][REFUSAL] = refusal
    else:
        environ["asgi.scope"][ASGI_REFUSAL] = refusal


def readable_payload(body: bytes) -> bool:
    """Can python-engineio take this polling POST? Decoded here first, with its own
    ``Payload``, so that what it cannot take is refused with a 400 before it sees it:

    - bytes that are not UTF-8, or a malformed payload: it logs a traceback, answers 200 and
      drops the payload, so that a CONNECT in it is never answered;
    - a packet a client never sends (open, ping, noop): it closes the session, and the close
      holds this POST until a long-poll that was already waiting takes what is queued (a later
      one gets 400): without one, for ever, one request handler per session a client opens."""
    try:
        packets = Payload(encoded_payload=body.decode("utf-8")).packets
    except Exception:  # UnicodeDecodeError, ValueError, IndexError: any is undecodable
        return False
    return all(p.packet_type in FROM_CLIENTS for p in packets)


def asks_for_jsonp(query_string: str) -> bool:
    """Does python-engineio see ``j`` in this query (a name, percent-decoded, with a value
    that is not empty)? Read as it reads it, with ``parse_qs``."""
    return "j" in parse_qs(query_string, errors="replace")


class AsgiRefusals:
    """``aiohttp_guard.guarded``'s last rule for ASGI: wraps ``socketio.ASGIApp``."""

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
    """``aiohttp_guard.guarded``'s JSONP rule for ASGI."""

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


def refuse_unreadable_payloads_asgi(app, path: str, max_bytes: int):
    """``aiohttp_guard.guarded``'s payload rules for ASGI: a polling POST over
    ``max_bytes`` gets 413, one python-engineio cannot take gets 400; a readable one is
    handed on as it came."""

    async def check_payload(scope, receive, send):
        if not (scope["type"] == "http" and scope["method"] == "POST"
                and under(scope["path"], path)):
            return await app(scope, receive, send)

        async def refuse(status: int, text: bytes) -> None:
            log.info("polling payload refused (%d)", status)
            await send({"type": "http.response.start", "status": status,
                        "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": text})

        said = dict(scope.get("headers", ())).get(b"content-length", b"0")
        if not said.isdigit() or int(said) > max_bytes:  # refused before it is sent
            return await refuse(413, b"payload too large")
        body = bytearray()
        try:
            async with asyncio.timeout(BODY_SECONDS):  # a body that never comes is no payload
                more = True
                while more and len(body) <= max_bytes:
                    message = await receive()
                    if message["type"] != "http.request":  # the client went away
                        return None
                    body += message.get("body", b"")
                    more = message.get("more_body", False)
        except TimeoutError:
            return await refuse(408, b"payload too slow")
        if len(body) > max_bytes:
            return await refuse(413, b"payload too large")
        if not readable_payload(bytes(body)):
            return await refuse(400, b"bad payload")

        replayed = False

        async def replay():  # the body, read once here, then the client's own messages
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        return await app(scope, replay, send)

    return check_payload


def under(request_path: str, path: str) -> bool:
    """Does python-engineio answer this path? It takes ``/socket.io`` and ``/socket.io/…``
    alike, so the guards must too."""
    return (request_path.rstrip("/") + "/").startswith(path)
