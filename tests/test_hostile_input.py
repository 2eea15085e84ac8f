"""Hostile input, everywhere (issue 20, item 5): generated hostile strings (``tests/hostile.py``)
through every HTTP endpoint and every credential carrier of both servers. Whatever is sent:

1. no answer is a 5xx: not aiohttp's 500, and not 0.9's "500 handshake error" either, which
   is the answer for an authorization function that throws, never for what a client sends;
2. the server keeps serving: a valid handshake right after each example connects;
3. the server's log has no traceback and no "Error handling request";
4. every CONNECT is answered: a client is never left waiting for ever.

Requests go out byte for byte on a socket (``tests/raw_http.py``): aiohttp's client refuses to
send some of it. A handshake that opens an Engine.IO session is followed by a CONNECT (the
``auth`` payload's carrier), whose answer is read, and the session is closed.

``make test`` runs 40 examples per test and server; ``make fuzz``, 10,000.
"""

import asyncio
import json
import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace

import aiohttp
import pytest
from hypothesis import Phase, example, given, settings
from hypothesis import strategies as st
from yarl import URL

from tests import raw_http
from tests.cases import ALICE
from tests.hostile import (
    BEARERS,
    CONTROLS,
    COOKIES,
    ENCODED,
    ESCAPED,
    HEADER_VALUES,
    HOSTS,
    JSON_DOCUMENTS,
    ORIGINS,
    SESSION,
    SIZES,
    TEXT,
    TOKENS,
    header_bytes,
    nested,
)
from tests.raw_client import raw_handshake
from tests.raw_http import RawRequest

TEXT_PLAIN = b"text/plain;charset=UTF-8"
CONNECT_ANSWERED_IN = 3.0  # seconds; a CONNECT left unanswered costs each example this much
# The profile's example count; no "explain" phase, which reruns a failing example hundreds of
# times (minutes, with a server round trip each) to say which of its parts mattered.
hostile_settings = settings(phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])
pytestmark = [
    # values past the size limits are the point, and a failing one's repr is long
    pytest.mark.filterwarnings("ignore:Generating overly large repr"),
    # a passing example takes milliseconds; shrinking a CONNECT left unanswered takes a few
    # dozen examples of CONNECT_ANSWERED_IN each. As long for make fuzz's 10,000 as it needs.
    pytest.mark.timeout(120 + hostile_settings.max_examples),
]


class Troubles(logging.Handler):
    """The log records no input may cause: a traceback, or aiohttp's "Error handling request"
    (which ``shared.webapp.access_log`` rewrites, without its traceback, for a request aiohttp
    cannot parse)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info or "Traceback" in text or "Error handling request" in text:
            error = record.exc_info[1] if record.exc_info else None
            self.found.append(f"{record.name} {record.levelname} {text[:160]!r}"
                              + (f" {type(error).__name__}: {str(error)[:160]}" if error else ""))


@pytest.fixture
def troubles():
    handler, root = Troubles(), logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


@pytest.fixture
async def credentials(server, tokens) -> dict[str, str]:
    """What the placeholders stand for: the tokens, and a live session's cookie, from a real
    login."""
    async with aiohttp.ClientSession() as http, http.post(
            server + "/login", json={"username": "alice", "password": "wonderland"}) as response:
        assert response.status == 200, await response.text()
        return {**tokens, SESSION: response.cookies["session"].value}


@dataclass
class GoodToken:
    """The token the after-example handshake presents: a fresh one once an example has logged
    alice out (a hostile request may carry her valid token too)."""

    policy: object
    value: str

    def renew(self) -> None:
        self.value = self.policy.tokens.issue("alice", "user")


@pytest.fixture
def good_token(policy, tokens) -> GoodToken:
    return GoodToken(policy, tokens[ALICE])


@dataclass
class Visit:
    """One example's requests to one server, with every answer it got."""

    base: str
    credentials: dict[str, str]  # placeholder -> the real value
    answers: list[tuple[str, int]] = field(default_factory=list)
    unanswered: list[bytes] = field(default_factory=list)  # CONNECTs the server never answered
    logged_out: bool = False  # a logout succeeded: the token or session it carried has ended

    def fill(self, data: bytes) -> bytes:
        for placeholder, value in self.credentials.items():
            data = data.replace(placeholder.encode(), value.encode())
        return data

    async def send(self, request: RawRequest, connect: bytes = b"40",
                   timeout: float = 10) -> raw_http.RawResponse:
        """Send ``request``; if it opened an Engine.IO polling session, send ``connect`` on it,
        read the answer and close the session."""
        request = replace(request, target=self.fill(request.target), body=self.fill(request.body),
                          headers=tuple((n, self.fill(v)) for n, v in request.headers))
        response = await raw_http.send(self.base, request, timeout)
        if response.status == 0:  # no answer: only a request over aiohttp's limits may get none
            assert over_the_limits(request), f"no answer at all to {described(request)}"
        self.answers.append((described(request), response.status))
        self.logged_out |= request.target.startswith(b"/logout") and response.status == 200
        if response.engine_io_sid and not request.websocket:
            await self.join(response.engine_io_sid, connect, request.headers)
        return response

    async def join(self, sid: str, connect: bytes, headers) -> None:
        polled = f"/socket.io/?EIO=4&transport=polling&sid={sid}".encode()
        headers = tuple((n, v) for n, v in headers if n.lower() != b"content-type")
        text = (*headers, (b"Content-Type", TEXT_PLAIN))
        posted = await self.send(RawRequest(b"POST", polled, text, connect))
        if posted.status == 200:
            try:  # the long-poll the answer comes on: a server answers a CONNECT in milliseconds
                await self.send(RawRequest(b"GET", polled, headers), timeout=CONNECT_ANSWERED_IN)
            except TimeoutError:
                self.unanswered.append(connect[:120])
        await self.send(RawRequest(b"POST", polled, text, b"1"))  # close, if still open

    async def connect_over_websocket(self, query: str, connect: str, headers: dict) -> None:
        """The WebSocket transport: open, send the CONNECT, read its answer (or the close)."""
        url = f"{self.base.replace('http', 'ws', 1)}/socket.io/?EIO=4&transport=websocket{query}"
        async with aiohttp.ClientSession() as http:
            try:
                ws = await http.ws_connect(URL(self.fill(url.encode()).decode(), encoded=True),
                                           headers=headers)
            except aiohttp.WSServerHandshakeError as refusal:
                self.answers.append(("websocket upgrade", refusal.status))
                return
            self.answers.append(("websocket upgrade", 101))
            async with ws:
                assert (await ws.receive_str(timeout=10)).startswith("0{")
                # as bytes, in a text frame: a lone surrogate reaches the server as CESU-8
                await ws.send_frame(header_bytes(connect), aiohttp.WSMsgType.TEXT)
                try:  # its answer, or the server closing the connection
                    async with asyncio.timeout(CONNECT_ANSWERED_IN):
                        async for message in ws:
                            if (message.type != aiohttp.WSMsgType.TEXT
                                    or message.data[:2] in ("40", "44")):
                                break
                except TimeoutError:
                    self.unanswered.append(header_bytes(connect)[:120])


@asynccontextmanager
async def hostile(server: str, credentials: dict, good_token: GoodToken, troubles: Troubles):
    """A visit, then the property: no 5xx, a good handshake works, no trouble in the log,
    no CONNECT left unanswered."""
    visit, logged = Visit(server, credentials), len(troubles.found)
    yield visit
    failed = [(request, status) for request, status in visit.answers if status >= 500]
    assert not failed, f"5xx answers: {failed}"
    if visit.logged_out:
        good_token.renew()
    after = await raw_handshake(server, query=f"token={good_token.value}")
    assert after.connected, f"the server no longer serves a good handshake: {after}"
    assert not troubles.found[logged:], f"trouble in the server's log: {troubles.found[logged:]}"
    assert not visit.unanswered, f"CONNECTs left unanswered (the client waits forever): " \
                                 f"{visit.unanswered}"


def over_the_limits(request: RawRequest) -> bool:
    """Is the request line or a header over aiohttp's 8190 bytes, or the body over what the
    server reads (the apps' client_max_size, 64 KiB)? The server answers 400 or 413 at once and
    closes with the rest unread, which may reset the connection before the answer is read."""
    line = len(request.method) + len(request.target) + 10
    return (line > 8190 or any(len(n) + len(v) + 2 > 8190 for n, v in request.headers)
            or len(request.body) > 64 * 1024)


def described(request: RawRequest) -> str:
    """What a failure message says of a request: enough of it to send it again."""
    headers = b", ".join(name + b": " + value[:80] for name, value in request.headers)
    return (f"{request.method.decode()} {request.target[:200]!r}"
            + (f" headers {headers!r}" if headers else "")
            + (f" body {request.body[:300]!r}" if request.body else ""))


def text_body(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def query_of(pairs) -> bytes:
    return "&".join(f"{name}={value}" for name, value in pairs).encode()


# ---- /login -------------------------------------------------------------------------------------

JSON_TYPES = st.sampled_from([b"application/json", b"application/json; charset=utf-8"])


@hostile_settings
@given(body=JSON_DOCUMENTS, content_type=JSON_TYPES)
@example(body='{"username": "alice", "password": "\\ud800"}', content_type=b"application/json")
@example(body='{"username": "alice", "password": ' + nested(1001, "[") + "}",
         content_type=b"application/json")
async def test_login_json_of_any_shape(server, credentials, good_token, troubles, body,
                                       content_type):
    """Two shapes always run: the issue's lone surrogate (0e23cfa answered it with a 500 and a
    traceback), and JSON nested past Python's recursion limit within the 4 KiB body limit."""
    async with hostile(server, credentials, good_token, troubles) as visit:
        await visit.send(RawRequest(b"POST", b"/login", ((b"Content-Type", content_type),),
                                    text_body(body)))


MEDIA_TYPES = st.sampled_from([b"application/json", b"application/x-www-form-urlencoded",
                               b"multipart/form-data", b"text/plain", b"application/JSON",
                               b"*/*", b""])
CHARSETS = st.sampled_from([b"nonexistent", b"", b'""', b"utf-16", b"utf-32", b"rot13",
                            b"idna", b"utf-8-sig", b"\xff"]) | HEADER_VALUES
CONTENT_TYPES = st.one_of(
    st.tuples(MEDIA_TYPES, CHARSETS).map(lambda mc: mc[0] + b"; charset=" + mc[1]),
    MEDIA_TYPES.map(lambda m: m + b"; boundary=x"), MEDIA_TYPES, HEADER_VALUES)
FORMS = st.lists(st.tuples(st.sampled_from(["username", "password"]) | ENCODED, ENCODED),
                 max_size=4).map(query_of)
RAW_BODIES = st.one_of(
    JSON_DOCUMENTS.map(text_body), FORMS, st.binary(max_size=200),
    st.sampled_from([b"\xff\xfe{\x00}\x00", b"\xef\xbb\xbf{}", b"--x\r\n\r\n--x--"]),
    st.sampled_from(SIZES).map(lambda n: b"{" + b" " * n + b"}"))


@hostile_settings
@given(method=st.sampled_from([b"POST", b"POST", b"GET", b"PUT", b"PATCH", b"DELETE", b"HEAD"]),
       content_type=CONTENT_TYPES | st.none(), body=RAW_BODIES,
       query=st.lists(st.tuples(st.sampled_from(["username", "password", "token"]) | ENCODED,
                                ENCODED), max_size=3).map(query_of))
@example(method=b"POST", content_type=b"application/json; charset=nonexistent", body=b"{}",
         query=b"")
@example(method=b"POST", content_type=b"application/x-www-form-urlencoded",
         body=b"username=alice&password=%ed%a0%80", query=b"")
async def test_login_bodies_content_types_and_methods(server, credentials, good_token, troubles,
                                                      method, content_type, body, query):
    """Always run: a charset no codec has, and a form's percent-encoded lone surrogate."""
    headers = () if content_type is None else ((b"Content-Type", content_type),)
    async with hostile(server, credentials, good_token, troubles) as visit:
        await visit.send(RawRequest(method, b"/login" + (b"?" + query if query else b""),
                                    headers, body))


# ---- /logout and /logout-everywhere: the cookie and the bearer ---------------------------------

@hostile_settings
@given(path=st.sampled_from([b"/logout", b"/logout-everywhere"]),
       carried=st.fixed_dictionaries({}, optional={b"Authorization": BEARERS,
                                                   b"Cookie": COOKIES}),
       second_cookie=st.none() | COOKIES)
async def test_logout_carriers(server, credentials, good_token, troubles, path, carried,
                               second_cookie):
    headers = tuple(carried.items()) + (((b"Cookie", second_cookie),) if second_cookie else ())
    async with hostile(server, credentials, good_token, troubles) as visit:
        await visit.send(RawRequest(b"POST", path, headers))


# ---- every route: the headers a browser, a proxy or an attacker sends ---------------------------

ROUTES = [(b"GET", b"/", False), (b"POST", b"/login", False), (b"OPTIONS", b"/login", False),
          (b"POST", b"/logout", False), (b"POST", b"/logout-everywhere", False),
          (b"GET", b"/static/client.js", False),
          (b"GET", b"/socket.io/?EIO=4&transport=polling", False),
          (b"GET", b"/socket.io/?EIO=4&transport=polling&token=" + ALICE.encode(), False),
          (b"OPTIONS", b"/socket.io/?EIO=4&transport=polling", False),
          (b"GET", b"/socket.io/?EIO=4&transport=websocket", True)]
FETCH_SITES = st.sampled_from([b"same-origin", b"same-site", b"cross-site", b"none"])
HEADERS = st.fixed_dictionaries({}, optional={
    b"Host": HOSTS, b"Origin": ORIGINS, b"Referer": ORIGINS, b"Sec-Fetch-Site": FETCH_SITES
    | HEADER_VALUES, b"Authorization": BEARERS, b"Cookie": COOKIES,
    b"Access-Control-Request-Method": st.sampled_from([b"POST", b"GET"]) | HEADER_VALUES,
    b"Access-Control-Request-Headers": st.sampled_from([b"content-type"]) | HEADER_VALUES,
    b"X-Forwarded-For": HEADER_VALUES, b"X-Forwarded-Proto": st.just(b"https") | HEADER_VALUES,
    b"Content-Type": HEADER_VALUES, b"X-Hostile": HEADER_VALUES,
})
HEADER_NAMES = st.sampled_from([b"X-\xff", b"X Y", b"X\x00", b"\xed\xa0\x80", b"Cookie ", b":a"])


@hostile_settings
@given(route=st.sampled_from(ROUTES), headers=HEADERS,
       odd_header=st.none() | st.tuples(HEADER_NAMES, HEADER_VALUES))
@example(route=ROUTES[0], headers={b"Host": b"["}, odd_header=None)
@example(route=ROUTES[7], headers={b"Cookie": b"session=" + SESSION.encode() + b"; session=\xff",
                                   b"Authorization": b"Bearer \xed\xa0\x80"}, odd_header=None)
async def test_hostile_headers_on_every_route(server, credentials, good_token, troubles, route,
                                              headers, odd_header):
    """Always run: a Host no URL parser takes, and a handshake's carriers with bytes that are
    not UTF-8 next to a valid token and session."""
    method, target, websocket = route
    sent = tuple(headers.items()) + ((odd_header,) if odd_header else ())
    body = b"{}" if method == b"POST" else b""  # /login reads the headers for its throttle
    async with hostile(server, credentials, good_token, troubles) as visit:
        await visit.send(RawRequest(method, target, sent, body, websocket=websocket))


# ---- /static/…: traversal, encoded NUL, names too long for the file system ----------------------

SEGMENTS = st.one_of(
    st.sampled_from([256, 255, 1024, 5000]).map(lambda n: "a" * n),
    st.sampled_from(["..", ".", "", "%2e%2e", "%2E%2E", "..%2f", "%2f", "%5c", "..\\", "%00",
                     "a%00b", "client.js%00", "%ff", "%ed%a0%80", "%c0%ae%c0%ae", "vendor",
                     "client.js", "CLIENT.JS", "~", "..;", "%252e%252e"]),
    ESCAPED)


@hostile_settings
@given(prefix=st.sampled_from(["/static/", "/static/vendor/", "/static//", "//static/", "/static",
                               "/STATIC/"]),
       segments=st.lists(SEGMENTS, min_size=1, max_size=5),
       method=st.sampled_from([b"GET", b"HEAD", b"POST"]))
@example(prefix="/static/", segments=["a" * 256], method=b"GET")
@example(prefix="/static/", segments=["client.js%00"], method=b"GET")
async def test_static_paths(server, credentials, good_token, troubles, prefix, segments, method):
    """Always run: a name longer than the file system takes, and an encoded NUL."""
    async with hostile(server, credentials, good_token, troubles) as visit:
        await visit.send(RawRequest(method, (prefix + "/".join(segments)).encode()))


# ---- the Socket.IO endpoint: the query (credentials, and Engine.IO's own parameters) -------------

QUERY_NAMES = st.sampled_from(["token", "username", "password", "EIO", "transport", "sid", "j",
                               "t", "b64"]) | ENCODED
QUERY_VALUES = st.one_of(ENCODED, st.sampled_from(TOKENS),
                         st.sampled_from(["4", "3", "polling", "websocket", "alice",
                                          "wonderland", "99999999999999999999", "-1", "4\x00"]))
RAW_TARGET_BYTES = st.binary(max_size=20).map(
    lambda b: b.replace(b"\r", b"").replace(b"\n", b"").replace(b" ", b""))


ENGINE_IO = st.sampled_from([[("EIO", "4"), ("transport", "polling")],
                             [("EIO", "4"), ("transport", "websocket")], []])


@hostile_settings
@given(path=st.sampled_from([b"/socket.io/", b"/socket.io", b"/socket.io//", b"/socket.io/1/",
                             b"/socket.io/%2e%2e/", b"/socket.io/1/xhr-polling/x"]),
       engine_io=ENGINE_IO, pairs=st.lists(st.tuples(QUERY_NAMES, QUERY_VALUES), max_size=5),
       raw=st.just(b"") | RAW_TARGET_BYTES,
       method=st.sampled_from([b"GET", b"GET", b"POST", b"OPTIONS"]))
@example(path=b"/socket.io/", engine_io=[("EIO", "4"), ("transport", "polling")], pairs=[],
         raw=b"&" + ALICE.encode(), method=b"GET")
async def test_socket_io_query(server, credentials, good_token, troubles, path, engine_io, pairs,
                               raw, method):
    """Always run: a token sent as a bare query parameter (no name), which no carrier reads
    and no log line may show (``tests/conftest.py::no_secret_in_any_log``)."""
    query = query_of(engine_io + pairs) + raw
    websocket = method == b"GET" and b"transport=websocket" in query
    async with hostile(server, credentials, good_token, troubles) as visit:
        await visit.send(RawRequest(method, path + b"?" + query, websocket=websocket))


# ---- the Socket.IO endpoint: the CONNECT packet's auth payload and namespace -------------------

NAMESPACES = st.one_of(st.sampled_from(["/", "/admin", "/nope", "/admin,", "admin", "/\x00", ""]),
                       TEXT.map(lambda s: "/" + s), CONTROLS.map(lambda c: "/" + c))
AUTHS = st.one_of(st.just(""), JSON_DOCUMENTS,
                  st.sampled_from(SIZES).map(lambda n: json.dumps({"token": "x" * n})))


@hostile_settings
@given(credential=st.sampled_from(["none", "query token", "session cookie"]),
       namespace=NAMESPACES, auth=AUTHS, transport=st.sampled_from(["polling", "websocket"]))
@example(credential="query token", namespace="/", auth='{"token": "\\ud800"}',
         transport="polling")
@example(credential="query token", namespace="/", auth='{"token": "\ud800"}',
         transport="polling")
@example(credential="session cookie", namespace="/admin", auth=nested(5000, "{"),
         transport="websocket")
@example(credential="query token", namespace="/\x1e", auth="", transport="polling")
@example(credential="query token", namespace="/\x1e0", auth="", transport="polling")
@example(credential="query token", namespace="/\x1e1", auth="", transport="polling")
async def test_connect_packet_auth_and_namespace(server, credentials, good_token, troubles,
                                                 credential, namespace, auth, transport):
    """With a valid credential in the handshake, the 0.9-style gate lets the session open and
    the CONNECT reaches its namespace authorization; without one, only the 1.0+ style reads
    the CONNECT. Always run: a lone surrogate escaped, and raw (its bytes are not UTF-8), an
    auth payload nested too deep, and a namespace with Engine.IO's packet separator in it:
    before a non-digit (a malformed payload), an Engine.IO "open" (no client sends one) and a
    "close" (the client leaves while its CONNECT is answered)."""
    connect = "40" + ("" if namespace == "/" else f"{namespace},") + auth
    query = f"&token={ALICE}" if credential == "query token" else ""
    cookie = {"Cookie": f"session={credentials[SESSION]}"} if credential == "session cookie" else {}
    async with hostile(server, credentials, good_token, troubles) as visit:
        if transport == "websocket":
            await visit.connect_over_websocket(query, connect, cookie)
        else:
            await visit.send(RawRequest(b"GET", f"/socket.io/?EIO=4&transport=polling{query}"
                                        .encode(), tuple((n.encode(), v.encode())
                                                         for n, v in cookie.items())),
                             connect=text_body(connect))
