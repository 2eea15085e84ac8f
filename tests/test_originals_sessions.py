"""The session-cookie app on the real Node servers (``originals/v0.9/app.js`` on socket.io 0.9.19
and express 3, ``originals/v4/app.js`` on socket.io 4.8 and express 4), checked from outside:
every row of ``SESSION_CASES`` (tests/cases.py), as the Python servers run them in
test_session_cookie.py; ``POST /login`` sets a signed session id; ``POST /logout`` ends the
session and its live connections, and its cookie is refused from then on."""

import asyncio
import base64
import hashlib
import hmac
import re
import secrets
from urllib.parse import quote, unquote

import aiohttp
import pytest
from yarl import URL

from shared.policy import REFUSALS
from tests.cases import FOREIGN_ORIGIN, SESSION_CASES, SessionCase
from tests.node import NodeServer
from tests.node_clients import CONNECT, CONNECT_AFTER, SOCKETS, Seen, tampered

APPS = {"0.9": "originals/v0.9/app.js", "4.8": "originals/v4/app.js"}
SESSION_SECRET = "session-secret-of-the-originals-tests"
SESSION_TTL = 1  # seconds, for the server the expired row runs on
NO_ORIGIN = ""  # a client that is not a browser: no Origin header


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


async def cookie_for(case: SessionCase, url: str) -> tuple[str | None, str]:
    """The Cookie header (None: none) and the query string the case's handshake sends.
    express-session's cookie, ``connect.sid``, holds ``s:<id>.<signature>``, percent-encoded:
    ``unsigned`` is the bare id, as a client that cannot sign would send it."""
    if case.session == "none":
        return None, ""
    if case.session == "unknown":  # 24 random bytes, as express-session's own ids
        return signed(secrets.token_urlsafe(24)), ""
    cookie = await session_cookie(url)
    if case.session == "tampered":
        return tampered(cookie), ""
    if case.session == "unsigned":
        return "connect.sid=" + unquote(cookie.split("=", 1)[1])[2:].split(".")[0], ""
    if case.session == "logged-out":
        assert await logout(url, cookie) == (200, {"logged_out": True})
    if case.session == "duplicated":
        return f"{cookie}; {await session_cookie(url)}", ""
    if case.session == "good+bob-token":  # POST /login answers a token too, for that carrier
        status, _, bob = await login(url, username="bob", password="builder")
        assert status == 200
        return cookie, f"token={bob['token']}"
    return cookie, ""


def headers_for(origin: str | None, cookie: str | None, url: str) -> dict:
    """A browser's: the Cookie, and the Origin of the page (None: the server's own)."""
    origin = url if origin is None else origin
    return {name: value for name, value in [("Cookie", cookie), ("Origin", origin)] if value}


def outcome09(seen: Seen, server: NodeServer, logged_before: int) -> str:
    if seen.welcome:
        return seen.welcome["user"]
    assert seen.status == 403, seen
    if seen.body == "handshake bad origin":
        return "foreign_origin"
    assert seen.body == "handshake unauthorized", seen
    return server.refusals_after(logged_before)[-1]  # the reason is only in the server's log


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


async def attempt(era: str, server: NodeServer, headers: dict, transport: str = "polling",
                  query: str = "") -> str:
    """One handshake: the user it was accepted as, or the refusal code, where the era shows
    it (0.9: only in the server's log; 4.8: in the connect_error's ``data.code``)."""
    logged = len(server.refusal_codes())
    seen = await CONNECT[era](server.url, headers, transport, query)
    return outcome09(seen, server, logged) if era == "0.9" else outcome4(seen)


@pytest.mark.parametrize("era", list(APPS))
@pytest.mark.parametrize("case", SESSION_CASES, ids=lambda case: case.id)
async def test_each_session_case_on_the_real_servers(case, era, node):
    expired = case.session == "expired"
    server = node(era, SESSION_TTL if expired else None)
    cookie, query = await cookie_for(case, server.url)
    headers = headers_for(case.origin, cookie, server.url)
    seen = await attempt(era, server, headers, case.transport, query)
    if expired:  # accepted while it lasts, refused once its lifetime is over
        assert seen == "alice"
        # waited out, not polled: on 4.8 every request through io.engine.use(session) makes
        # express-session touch the session, which then lasts SESSION_TTL from that request
        await asyncio.sleep(SESSION_TTL + 0.2)
        seen = await attempt(era, server, headers, case.transport, query)
    assert seen == case.expect
    assert not server.crashed


@pytest.mark.parametrize(("era", "expect"), [("0.9", "foreign_origin"), ("4.8", "alice")])
async def test_without_an_origin_only_0_9_refuses_the_good_cookie(era, expect, node):
    """A client that is not a browser sends no Origin. 4.8 accepts it, as the Python servers
    do (test_session_cookie.py's clients send none); 0.9.19 with an ``origins`` list refuses
    a handshake that has neither Origin nor Referer."""
    server = node(era)
    cookie = await session_cookie(server.url)
    assert await attempt(era, server, headers_for(NO_ORIGIN, cookie, server.url)) == expect


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
            assert await socket.ended_by_server(timeout=2)  # "within a second or two"
    assert await attempt(era, server, headers, "websocket") == "invalid_session"
    assert await logout(server.url, cookie) == (401, {"error": "invalid_session"})


REFUSED_AFTER_LOGOUT = {
    # 4.8: io.use's authenticate reloads the session from the store, and refuses the CONNECT
    "4.8": Seen(connect_error={"message": REFUSALS["invalid_session"],
                               "data": {"code": "invalid_session"}}),
    # 0.9: the connection handler asks the store and disconnects the socket before any welcome;
    # the poll after the transport's CONNECT (1::) gets error 1, "client not handshaken"
    "0.9": Seen(body="7:::1+0", ended=True),
}


@pytest.mark.parametrize("era", list(APPS))
@pytest.mark.parametrize("log_out", [False, True], ids=["no-logout", "logout"])
async def test_a_connection_opened_before_logout_does_not_connect_after_it(era, log_out, node):
    """The attacker's race: the Engine.IO handshake (0.9: the Socket.IO handshake) before
    ``POST /logout``, the CONNECT (0.9: the transport) after it. Without the logout in between,
    the same steps connect as alice."""
    server = node(era)
    cookie = await session_cookie(server.url)

    async def meanwhile():
        if log_out:
            assert await logout(server.url, cookie) == (200, {"logged_out": True})

    seen = await CONNECT_AFTER[era](server.url, {"Cookie": cookie, "Origin": server.url},
                                    meanwhile)
    if log_out:
        assert seen == REFUSED_AFTER_LOGOUT[era]
    else:
        assert seen.welcome["user"] == "alice"
    assert not server.crashed


@pytest.mark.parametrize("era", list(APPS))
async def test_a_handler_writes_the_session_back_until_logout(era, node):
    """``visit`` increments a counter kept in the session: 0.9 reads and writes the store,
    4.8 calls ``session.reload`` and ``session.save``. The first socket sees what the second
    wrote (a copy kept since its handshake would answer 3), and logout ends the socket."""
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
                assert await socket.emit("visit", 3) == [{"visits": 4}]
                assert await logout(server.url, cookie) == (200, {"logged_out": True})
                assert await second.ended_by_server(timeout=2)


@pytest.mark.parametrize("era", list(APPS))
async def test_a_logout_forged_by_another_page_is_refused(era, node):
    server = node(era)
    cookie = await session_cookie(server.url)
    async with aiohttp.ClientSession() as http, http.post(
            f"{server.url}/logout", headers={"Cookie": cookie, "Origin": FOREIGN_ORIGIN}) as answer:
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
