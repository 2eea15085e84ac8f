"""The HTTP request that opened a connection, as both eras' handshake objects need it, read the
same way from aiohttp and from ASGI (the ``environ`` python-engineio builds for each)."""

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl


@dataclass(frozen=True, slots=True)  # slots: every open connection keeps one
class HttpRequest:
    # (name, value) pairs in the order sent, names as sent; under aiohttp, a view of the
    # request's own headers (a copy would double what every open connection keeps)
    headers: Iterable[tuple[str, str]]
    remote: str  # the peer's address
    port: int | None  # the peer's port
    url: str  # path and query, percent-encoding kept
    secure: bool
    # ``node_headers``, made once per connection: the session cap and the era's handshake
    # object read the same dict
    node: dict[str, str] | None = field(default=None, compare=False, repr=False)

    @property
    def query_string(self) -> str:
        return self.url.partition("?")[2]

    def header(self, name: str) -> str | None:
        """The first value of a header, whatever the case of ``name``."""
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


def request_of(environ: dict) -> HttpRequest:
    """From python-engineio's ``environ``, under aiohttp or under any ASGI server. Read once:
    python-engineio keeps the handshake's ``environ`` for the whole connection."""
    request = environ.get(READ)
    if request is None:
        request = environ[READ] = _read(environ)
    return request


READ = "socketio_handshake_auth.request"  # request_of's answer, kept in the environ


def _read(environ: dict) -> HttpRequest:
    if "aiohttp.request" in environ:
        request = environ["aiohttp.request"]
        peer = request.transport.get_extra_info("peername") if request.transport else None
        return HttpRequest(request.headers.items(), request.remote or "",
                           peer[1] if peer else None, request.raw_path, request.secure)
    scope = environ["asgi.scope"]
    host, port = scope.get("client") or ("", None)
    path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    query = scope.get("query_string", b"").decode("latin-1")
    return HttpRequest(
        tuple((name.decode("latin-1"), value.decode("latin-1"))
              for name, value in scope.get("headers", [])),
        host, port, f"{path}?{query}" if query else path,
        scope.get("scheme") in ("https", "wss"))


# Node keeps the first of these when a request repeats them (``IncomingMessage``'s rule).
NODE_SINGLE_HEADERS = {
    "age", "authorization", "content-length", "content-type", "etag", "expires", "from", "host",
    "if-modified-since", "if-unmodified-since", "last-modified", "location", "max-forwards",
    "proxy-authorization", "referer", "retry-after", "server", "user-agent",
}


def node_headers(request: HttpRequest) -> dict[str, str]:
    """Node's ``req.headers``: names lower-cased; a repeated header keeps its first value if
    Node allows only one, ``cookie`` is joined with "; ", any other with ", ". Made once per
    request, and the same dict for every reader."""
    if request.node is not None:
        return request.node
    headers: dict[str, str] = {}
    for name, value in request.headers:
        name = name.lower()
        if name not in headers:
            headers[name] = value
        elif name not in NODE_SINGLE_HEADERS:
            headers[name] += f"{'; ' if name == 'cookie' else ', '}{value}"
    object.__setattr__(request, "node", headers)  # frozen, but this is a cache of its own
    return headers


def query_pairs(request: HttpRequest) -> list[tuple[str, str]]:
    """Decoded as Node does: ``+`` is a space, a bad escape stays as it is, bytes that are not
    UTF-8 become U+FFFD, a name without ``=`` has the value ``""``."""
    return parse_qsl(request.query_string, keep_blank_values=True, errors="replace")


def node_query(request: HttpRequest) -> dict[str, str | list[str]]:
    """Socket.IO 0.9's ``handshakeData.query`` (Node's ``querystring.parse``): a repeated name
    maps to a list of its values."""
    query: dict[str, str | list[str]] = {}
    for name, value in query_pairs(request):
        seen = query.get(name)
        if seen is None:
            query[name] = value
        elif isinstance(seen, list):
            seen.append(value)
        else:
            query[name] = [seen, value]
    return query


def engine_io_query(request: HttpRequest) -> dict[str, str]:
    """Socket.IO 4's ``socket.handshake.query`` (engine.io 6 reads ``URLSearchParams`` into an
    object): a repeated name keeps its last value."""
    return dict(query_pairs(request))


def js_date_string(epoch_seconds: float | None = None) -> str:
    """JavaScript's ``Date#toString()``: "Wed Nov 25 2026 20:53:26 GMT+0000 (UTC)"."""
    return time.strftime("%a %b %d %Y %H:%M:%S GMT%z (%Z)", time.localtime(epoch_seconds))


def epoch_ms() -> int:
    return time.time_ns() // 1_000_000
