"""Read an aiohttp request the way Node's Socket.IO did, for both eras' handshake objects."""

import hashlib
import re
import time
from collections.abc import Mapping
from urllib.parse import unquote

from aiohttp import web

REDACTED = "[redacted]"
# The one rule for what may be shown, in a log line or the ``handshake`` acknowledgement: an
# allow-list. Query values: Engine.IO's own, in the shapes Engine.IO gives them (any other value
# may be a credential sent under another name); a session id only as a hash (its holder can
# drive that polling session). Headers: these names; a cookie or any unknown header is hidden.
SAFE_PARAMS = {
    "EIO": re.compile(r"\d{1,2}"),
    "transport": re.compile(r"polling|websocket"),
    "t": re.compile(r"[0-9A-Za-z.]{1,24}"),
}
SAFE_HEADERS = {
    "host", "user-agent", "accept", "accept-language", "accept-encoding", "origin", "connection",
    "upgrade", "content-type", "content-length", "sec-fetch-site", "sec-fetch-mode",
    "sec-fetch-dest", "sec-websocket-version", "x-forwarded-for",
}
IDENTIFIERS = {"sid"}


def shown(name: str, value: str) -> str:
    """A query value as it may be shown: itself, a hash (session ids), or ``[redacted]``."""
    if name in IDENTIFIERS:
        return "#" + hashlib.sha256(value.encode(errors="replace")).hexdigest()[:12]
    pattern = SAFE_PARAMS.get(name)
    return value if pattern and pattern.fullmatch(value) else REDACTED


def redacted(handshake: Mapping) -> dict:
    """A copy of a handshake object that may be shown: its query, headers, url and ``auth``
    through the one rule above; what the server itself added (address, user, role) as is."""
    safe = dict(handshake)
    if isinstance(handshake.get("query"), Mapping):
        safe["query"] = {name: [shown(name, v) for v in value] if isinstance(value, list)
                         else shown(name, value) for name, value in handshake["query"].items()}
    if isinstance(handshake.get("headers"), Mapping):
        safe["headers"] = {name: value if name in SAFE_HEADERS else REDACTED
                           for name, value in handshake["headers"].items()}
    if isinstance(handshake.get("url"), str):
        safe["url"] = redacted_url(handshake["url"])
    if isinstance(handshake.get("auth"), Mapping):
        safe["auth"] = dict.fromkeys(handshake["auth"], REDACTED)
    return safe


def redacted_url(url: str) -> str:
    """``/socket.io/?token=abc&EIO=4`` -> ``/socket.io/?token=[redacted]&EIO=4``."""
    path, sep, query = url.partition("?")
    if not sep:
        return url
    parts = []
    for part in query.split("&"):
        name, eq, value = part.partition("=")
        parts.append(f"{name}={shown(name, unquote(value))}" if eq else part)
    return f"{path}?{'&'.join(parts)}"


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
