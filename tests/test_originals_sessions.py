"""The session-cookie app on the real Node servers (``originals/v0.9/app.js`` on socket.io 0.9.19
and express 3, ``originals/v4/app.js`` on socket.io 4.8 and express 4), checked from outside:
``POST /login`` sets a signed session id; a Socket.IO connection that sends only that cookie is
accepted; ``POST /logout`` ends the session and its live connections; a bad, expired or
logged-out cookie, or the good one from a foreign page, is refused, on polling and WebSocket."""

import asyncio
import base64
import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from urllib.parse import quote, unquote

import aiohttp
import pytest
from yarl import URL

from shared.policy import REFUSALS
from tests.node import NodeServer
from tests.node_clients import CONNECT, SOCKETS, Seen, tampered

APPS = {"0.9": "originals/v0.9/app.js", "4.8": "originals/v4/app.js"}
SESSION_SECRET = "session-secret-of-the-originals-tests"
FOREIGN = "http://evil.example"
OWN, NONE = "own", "none"  # the server's own page; no Origin header (not a browser)


@dataclass(frozen=True)
class SessionCase:
    """What the client sends and what must happen: a user name, or a refusal code
    (``foreign_origin``: refused before any authorization runs). ``legacy``: what 0.9 does
    instead, where it differs by design."""

    id: str
    session: str  # the Cookie: none, good, tampered, unsigned, unknown, expired, logged-out
    expect: str
    origin: str = OWN  # OWN, NONE or an origin
    transport: str = "polling"
    legacy: str | None = None
    note: str = ""

    def expected(self, era: str) -> str:
        return self.legacy if era == "0.9" and self.legacy else self.expect


NO_ORIGIN = "with an `origins` list, 0.9 refuses a handshake without Origin or Referer"

# --8<-- [start:cases]
SESSION_CASES = [
    SessionCase("session-none", "none", "missing_credentials"),
    SessionCase("session-good", "good", "alice"),
    SessionCase("session-good-websocket", "good", "alice", transport="websocket"),
    SessionCase("session-tampered", "tampered", "bad_credentials"),
    SessionCase("session-unsigned", "unsigned", "bad_credentials"),
    SessionCase("session-unknown", "unknown", "bad_credentials"),
    SessionCase("session-expired", "expired", "bad_credentials"),
    SessionCase("session-logged-out", "logged-out", "bad_credentials"),
    SessionCase("session-foreign-origin", "good", "foreign_origin", origin=FOREIGN),
    SessionCase("session-foreign-origin-websocket", "good", "foreign_origin", origin=FOREIGN,
                transport="websocket"),
    SessionCase("session-no-origin", "good", "alice", origin=NONE, legacy="foreign_origin",
                note=NO_ORIGIN),
]
# --8<-- [end:cases]
SESSION_TTL = 1  # seconds, for the server the expired case runs on


@pytest.fixture(scope="module")
def node():
    """The app of an era, started once for the module (``ttl``: its --session-ttl)."""
    running: dict[tuple, NodeServer] = {}

    def app(era: str, ttl: int | None = None) -> NodeServer:
        if (era, ttl) not in running:
            args = ("--session-ttl", str(ttl)) if ttl else ()
            running[era, ttl] = NodeServer(APPS[era], *args, env={"SESSION_SECRET": SESSION_SECRET})
        return running[era, ttl]

    yield app
    for server in running.values():
        server.stop()


# ---- the cookies ---------------------------------------------------------------------------
async def login(url: str, **form) -> tuple[int, str | None, dict]:
    """``POST /login`` as a form: status, the Set-Cookie header, the JSON body."""
    async with aiohttp.ClientSession() as http, http.post(
            f"{url}/login", data=form or {"username": "alice", "password": "wonderland"}) as answer:
        return answer.status, answer.headers.get("Set-Cookie"), await answer.json()


async def session_cookie(url: str) -> str:
    """``connect.sid=…``, as a browser sends it back after logging in as alice."""
    status, set_cookie, _ = await login(url)
    assert status == 200
    return set_cookie.split(";")[0]


async def logout(url: str, cookie: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http, http.post(
            f"{url}/logout", headers={"Cookie": cookie}) as answer:
        return answer.status, await answer.json()


def signed(session_id: str) -> str:
    """What express-session's cookie-signature makes of an id: a cookie this server's secret
    signed, for an id its store has never held."""
    mac = hmac.new(SESSION_SECRET.encode(), session_id.encode(), hashlib.sha256).digest()
    value = f"s:{session_id}.{base64.b64encode(mac).decode().rstrip('=')}"
    return f"connect.sid={quote(value, safe='')}"


async def cookie_for(case: SessionCase, era: str, node) -> str | None:
    if case.session == "none":
        return None
    if case.session == "expired":
        server = node(era, SESSION_TTL)
        cookie = await session_cookie(server.url)
        await asyncio.sleep(SESSION_TTL + 0.2)  # MemoryStore drops it on the first read after
        return cookie
    url = node(era).url
    if case.session == "unknown":
        return signed("an-id-this-store-never-held-00000")
    cookie = await session_cookie(url)
    if case.session == "tampered":
        return tampered(cookie)
    if case.session == "unsigned":  # the bare id, without its signature
        return "connect.sid=" + unquote(cookie.split("=", 1)[1])[2:].split(".")[0]
    if case.session == "logged-out":
        assert await logout(url, cookie) == (200, {"logged_out": True})
    return cookie


def headers_for(case: SessionCase, cookie: str | None, url: str) -> dict:
    origin = {OWN: url, NONE: None}.get(case.origin, case.origin)
    return {name: value for name, value in [("Cookie", cookie), ("Origin", origin)] if value}


def outcome09(seen: Seen, server: NodeServer, logged_before: int) -> str:
    if seen.welcome:
        return seen.welcome["user"]
    assert seen.status == 403, seen
    if seen.body == "handshake bad origin":
        return "foreign_origin"
    assert seen.body == "handshake unauthorized", seen
    return server.refusals_after(logged_before)[-1]  # the reason is only in the server's log


def outcome(era: str, seen: Seen, server: NodeServer, logged_before: int) -> str:
    return outcome09(seen, server, logged_before) if era == "0.9" else outcome4(seen)


def outcome4(seen: Seen) -> str:
    if seen.welcome:
        return seen.welcome["user"]
    # allowRequest said no, before any CONNECT: Engine.IO's "Forbidden", with 403 on polling
    # and 400 on a WebSocket upgrade (its body, "Forbidden" too, aiohttp does not expose)
    if (seen.status, seen.body) in ((403, '{"code":4,"message":"Forbidden"}'), (400, "")):
        return "foreign_origin"
    code = seen.connect_error["data"]["code"]
    assert seen.connect_error["message"] == REFUSALS[code], seen
    return code


@pytest.mark.parametrize("era", list(APPS))
@pytest.mark.parametrize("case", SESSION_CASES, ids=lambda case: case.id)
async def test_each_session_case_on_the_real_servers(case, era, node):
    cookie = await cookie_for(case, era, node)
    server = node(era, SESSION_TTL if case.session == "expired" else None)
    headers = headers_for(case, cookie, server.url)
    logged = len(server.refusal_codes())
    seen = await CONNECT[era](server.url, headers, case.transport)
    assert outcome(era, seen, server, logged) == case.expected(era)
    assert not server.crashed


@pytest.mark.parametrize("era", list(APPS))
async def test_the_expired_cookie_was_good_before_it_expired(era, node):
    """So that session-expired shows expiry, not a cookie that never worked."""
    server = node(era, SESSION_TTL)
    cookie = await session_cookie(server.url)
    headers = {"Cookie": cookie, "Origin": server.url}
    assert (await CONNECT[era](server.url, headers, "polling")).welcome["user"] == "alice"


SET_COOKIE = re.compile(r"connect\.sid=s%3A(?P<id>[\w-]{32})\.(?P<signature>[\w%]{43,}); Path=/; "
                        r"Expires=[^;]+; HttpOnly; SameSite=Lax")


@pytest.mark.parametrize("era", list(APPS))
@pytest.mark.parametrize("body", ["form", "json"])
async def test_login_sets_a_signed_session_id_and_nothing_readable(era, body, node):
    url = node(era).url
    credentials = {"username": "bob", "password": "builder"}
    async with aiohttp.ClientSession() as http, http.post(
            f"{url}/login", **{"data" if body == "form" else "json": credentials}) as answer:
        assert answer.status == 200
        set_cookie = answer.headers.getall("Set-Cookie")
        token = (await answer.json())["token"]  # the token carriers keep theirs, in the body
    assert len(set_cookie) == 1 and SET_COOKIE.fullmatch(set_cookie[0]), set_cookie
    assert "bob" not in set_cookie[0] and token not in set_cookie[0]
    assert (await login(url, username="bob", password="wrong"))[:2] == (401, None)


@pytest.mark.parametrize("era", list(APPS))
async def test_logout_ends_the_live_connection_then_the_cookie_is_refused(era, node):
    server = node(era)
    cookie = await session_cookie(server.url)
    headers = {"Cookie": cookie, "Origin": server.url}
    async with aiohttp.ClientSession() as http:
        socket = await SOCKETS[era].open(http, server.url, headers)
        async with socket:
            assert (await socket.welcome())["user"] == "alice"
            assert await logout(server.url, cookie) == (200, {"logged_out": True})
            logged_out = time.monotonic()
            async with asyncio.timeout(2):  # "within a second or two"
                assert await socket.ended_by_server()
            ended_after = time.monotonic() - logged_out
    assert ended_after < 2
    logged = len(server.refusal_codes())
    refused = await CONNECT[era](server.url, headers, "websocket")
    assert outcome(era, refused, server, logged) == "bad_credentials"
    assert await logout(server.url, cookie) == (401, {"error": "bad_credentials"})


@pytest.mark.parametrize("era", list(APPS))
async def test_a_handler_writes_the_session_back_until_logout(era, node):
    """``visit`` increments a counter kept in the session: 0.9 reads and writes the store,
    4.8 calls ``session.reload`` and ``session.save``. Both refuse once the session ended."""
    server = node(era)
    cookie = await session_cookie(server.url)
    headers = {"Cookie": cookie, "Origin": server.url}
    async with aiohttp.ClientSession() as http:
        socket = await SOCKETS[era].open(http, server.url, headers)
        async with socket:
            await socket.welcome()
            assert await socket.emit("visit", 1) == [{"visits": 1}]
            assert await socket.emit("visit", 2) == [{"visits": 2}]
            second = await SOCKETS[era].open(http, server.url, headers)  # same session
            async with second:
                await second.welcome()
                assert await second.emit("visit", 1) == [{"visits": 3}]
                assert await logout(server.url, cookie) == (200, {"logged_out": True})
                async with asyncio.timeout(2):
                    assert await second.ended_by_server()


@pytest.mark.parametrize("era", list(APPS))
async def test_a_logout_forged_by_another_page_is_refused(era, node):
    server = node(era)
    cookie = await session_cookie(server.url)
    async with aiohttp.ClientSession() as http, http.post(
            f"{server.url}/logout", headers={"Cookie": cookie, "Origin": FOREIGN}) as answer:
        assert (answer.status, await answer.json()) == (403, {"error": "foreign_origin"})
    seen = await CONNECT[era](server.url, {"Cookie": cookie, "Origin": server.url}, "polling")
    assert seen.welcome["user"] == "alice"  # still logged in


@pytest.mark.parametrize("era", list(APPS))
async def test_the_page_is_served_with_the_era_s_own_client(era, node):
    url = node(era).url
    client = {"0.9": "/socket.io/socket.io.js", "4.8": "/socket.io/socket.io.min.js"}[era]
    banner = {"0.9": "Socket.IO.js build:0.9.16", "4.8": "Socket.IO v4.8.4"}[era]
    async with aiohttp.ClientSession() as http:
        async with http.get(URL(url)) as page:
            assert page.status == 200
            assert f'<script src="{client}"></script>' in await page.text()
        async with http.get(URL(url + client)) as script:
            assert script.status == 200
            assert banner in (await script.text())[:200]
