"""Read an aiohttp request the way Node's Socket.IO did, for both eras' handshake objects."""

import re
import time
from collections.abc import Mapping

from aiohttp import web

REDACTED = "[redacted]"
SECRET_NAMES = {"token", "password"}
# Query values safe to log: Engine.IO's own, in the shapes Engine.IO gives them. Any other
# value may be a credential sent under another name, so it is hidden (an allow-list).
SAFE_PARAMS = {
    "EIO": re.compile(r"\d{1,2}"),
    "transport": re.compile(r"polling|websocket"),
    "sid": re.compile(r"[A-Za-z0-9_-]{20}"),
    "t": re.compile(r"[0-9.]{1,24}"),
}
SECRET_HEADERS = {"authorization", "cookie"}


# Node keeps the first of these when a request repeats them (``IncomingMessage``'s rule).
NODE_SINGLE_HEADERS = {
    "age", "authorization", "content-length", "content-type", "etag", "expires", "from", "host",
    "if-modified-since", "if-unmodified-since", "last-modified", "location", "max-forwards",
    "proxy-authorization", "referer", "retry-after", "server", "user-agent",
}


def node_headers(request: web.Request) -> dict[str, str]:
    """Node's ``req.headers``: names lower-cased; a repeated header keeps its first value if
    Node allows only one, ``cookie`` is joined with "; ", any other with ", "."""
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        name = name.lower()
        if name not in headers:
            headers[name] = value
        elif name not in NODE_SINGLE_HEADERS:
            headers[name] += f"{'; ' if name == 'cookie' else ', '}{value}"
    return headers


def node_query(request: web.Request) -> dict[str, str | list[str]]:
    """Socket.IO 0.9's ``handshakeData.query`` (Node's ``querystring.parse``): a repeated name
    maps to a list of its values."""
    query: dict[str, str | list[str]] = {}
    for name, value in request.query.items():
        if name not in query:
            query[name] = value
        elif isinstance(query[name], list):
            query[name].append(value)
        else:
            query[name] = [query[name], value]
    return query


def engine_io_query(request: web.Request) -> dict[str, str]:
    """Socket.IO 4's ``socket.handshake.query`` (engine.io 6 reads ``URLSearchParams`` into an
    object): a repeated name keeps its last value."""
    return dict(request.query.items())


def js_date_string(epoch_seconds: float | None = None) -> str:
    """JavaScript's ``Date#toString()``: "Wed Nov 25 2026 20:53:26 GMT+0000 (UTC)"."""
    moment = time.localtime(epoch_seconds)
    return time.strftime("%a %b %d %Y %H:%M:%S GMT%z (%Z)", moment)


def epoch_ms() -> int:
    return time.time_ns() // 1_000_000


def redacted(handshake: Mapping) -> dict:
    """A copy safe to show or log: token and password values, cookies, Authorization hidden."""
    safe = {}
    for key, value in handshake.items():
        if key in SECRET_NAMES or key in SECRET_HEADERS:
            safe[key] = REDACTED
        elif isinstance(value, Mapping):
            safe[key] = redacted(value)
        elif key == "url" and isinstance(value, str):
            safe[key] = redacted_url(value)
        else:
            safe[key] = value
    return safe


def redacted_url(url: str) -> str:
    """``/socket.io/?token=abc&EIO=4`` -> ``/socket.io/?token=[redacted]&EIO=4``: every value
    but Engine.IO's own is hidden (an allow-list: a token may come under any name)."""
    path, sep, query = url.partition("?")
    if not sep:
        return url
    parts = []
    for part in query.split("&"):
        name, eq, value = part.partition("=")
        safe = name in SAFE_PARAMS and SAFE_PARAMS[name].fullmatch(value)
        parts.append(part if not eq or safe else f"{name}={REDACTED}")
    return f"{path}?{'&'.join(parts)}"
