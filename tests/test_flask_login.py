"""Flask-Login in Flask-SocketIO (``examples/native/flask_login_app.py``), from outside: the app
on Werkzeug on an ephemeral loopback port, ``POST /login`` over HTTP, then real Socket.IO
clients that send only the session cookie."""

import asyncio
import email.utils
import logging
import secrets
from datetime import UTC, datetime

import aiohttp
import pytest
from flask import Flask
from flask_login import LoginManager, current_user, login_user, logout_user

from examples.native import flask_login_app
from shared.policy import REFUSALS
from tests.client import RefusalLog, connect, python_client, until
from tests.raw_client import RawWebSocket, raw_handshake
from tests.servers import python_m, serve_flask_example, serve_werkzeug

COOKIE = "session"  # Flask's session cookie name, which Flask-Session keeps
FOREIGN = "http://evil.example"
PASSWORDS = {"alice": "wonderland", "bob": "builder"}


@pytest.fixture(autouse=True)
def quiet_request_lines():
    """Werkzeug logs request lines at INFO; the example's ``python -m`` logs from WARNING."""
    werkzeug = logging.getLogger("werkzeug")
    level = werkzeug.level
    werkzeug.setLevel(logging.WARNING)
    yield
    werkzeug.setLevel(level)


@pytest.fixture
async def url(policy):
    async with serve_flask_example(flask_login_app.create_app(policy)) as base:
        yield base


async def log_in(url: str, username: str, password: str, *, form: bool = False):
    """``POST /login``: its status, its JSON body, and the session cookie it set (or None)."""
    body = {"username": username, "password": password}
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http, \
            http.post(url + "/login", **({"data": body} if form else {"json": body})) as reply:
        cookie = reply.cookies.get(COOKIE)
        return reply.status, await reply.json(), cookie.value if cookie else None


async def log_out(url: str, cookie: str) -> int:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http, \
            http.post(url + "/logout", headers={"Cookie": f"{COOKIE}={cookie}"}) as reply:
        return reply.status


async def connect_with(url: str, cookie: str | None, transports=None):
    headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie else {}
    return await connect(url, RefusalLog(), headers=headers, transports=transports)


def refused_with(code: str) -> dict:
    return {"message": REFUSALS[code], "data": {"code": code}}


async def test_not_logged_in_is_refused(url):
    result = await connect_with(url, None)
    assert result.connect_error == refused_with("missing_credentials"), result.seen


@pytest.mark.parametrize(("username", "role", "form"),
                         [("alice", "user", False), ("bob", "admin", True)],
                         ids=["json", "form"])
async def test_logged_in_is_welcomed_by_name(url, username, role, form):
    status, body, cookie = await log_in(url, username, PASSWORDS[username], form=form)
    assert (status, body) == (200, {"user": username, "role": role})
    assert cookie is not None
    result = await connect_with(url, cookie)
    assert result.welcome == {"user": username, "role": role, "server": "native-flask-login"}


async def test_the_session_cookie_is_an_id_httponly_and_lax(url):
    """The cookie holds no readable claim: only Flask-Session's random id."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http, \
            http.post(url + "/login", json={"username": "alice",
                                            "password": "wonderland"}) as reply:
        morsel = reply.cookies[COOKIE]
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Lax"
    assert "alice" not in morsel.value and len(morsel.value) >= 40  # 32 random bytes, base64
    # an hour, as the other servers' sessions, not Flask's 31 days
    expires = email.utils.parsedate_to_datetime(morsel["expires"])
    assert 3500 < (expires - datetime.now(UTC)).total_seconds() <= 3600


async def test_another_site_cannot_log_the_user_in(url):
    """Login CSRF: a form on another site posting the attacker's password would plant the
    attacker's session in the user's browser."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http, \
            http.post(url + "/login", headers={"Origin": FOREIGN},
                      data={"username": "alice", "password": "wonderland"}) as reply:
        assert (reply.status, await reply.json()) == (403, {"error": "foreign_origin"})
        assert COOKIE not in reply.cookies


async def test_logging_in_again_gives_a_new_session_id(url):
    """Flask-Session's ``regenerate()`` at /login: an id known before the login (fixation) opens
    nothing after it."""
    *_, before = await log_in(url, "alice", "wonderland")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http, \
            http.post(url + "/login", json={"username": "bob", "password": "builder"},
                      headers={"Cookie": f"{COOKIE}={before}"}) as reply:
        after = reply.cookies[COOKIE].value
    assert after != before
    assert (await connect_with(url, after)).welcome["user"] == "bob"
    result = await connect_with(url, before)
    assert result.connect_error == refused_with("invalid_session"), result.seen


async def test_a_wrong_password_gets_401_and_no_connection(url):
    status, body, cookie = await log_in(url, "alice", "not-her-password")
    assert (status, body, cookie) == (401, {"error": "bad_credentials"}, None)
    result = await connect_with(url, cookie)
    assert result.connect_error == refused_with("missing_credentials"), result.seen


async def test_logout_ends_that_logins_connections_and_its_old_cookie(url):
    """Every live connection of the login ends within 2 s, on WebSocket and on polling; the
    same user's other login keeps its own; the cookie copied before /logout is refused."""
    *_, cookie = await log_in(url, "alice", "wonderland")
    *_, other_cookie = await log_in(url, "alice", "wonderland")
    async with python_client() as websocket, python_client() as polling, \
            python_client() as other:
        for client, sent, transports in [(websocket, cookie, ["websocket"]),
                                         (polling, cookie, ["polling"]),
                                         (other, other_cookie, ["websocket"])]:
            await client.connect(url, headers={"Cookie": f"{COOKIE}={sent}"},
                                 transports=transports, wait_timeout=3)
        assert await log_out(url, cookie) == 204
        await until(lambda: not websocket.connected and not polling.connected, timeout=2)
        assert other.connected
    result = await connect_with(url, cookie)
    assert result.connect_error == refused_with("invalid_session"), result.seen
    assert (await connect_with(url, other_cookie)).welcome["user"] == "alice"


async def test_a_foreign_origin_with_the_good_cookie_is_refused_on_polling(url):
    *_, cookie = await log_in(url, "alice", "wonderland")
    same_site = await raw_handshake(url, headers={"Cookie": f"{COOKIE}={cookie}",
                                                  "Origin": url})
    assert same_site.welcome == {"user": "alice", "role": "user", "server": "native-flask-login"}
    foreign = await raw_handshake(url, headers={"Cookie": f"{COOKIE}={cookie}",
                                                "Origin": FOREIGN})
    assert (foreign.status, foreign.connected) == (400, False)
    assert "Not an accepted origin" in foreign.body


async def test_a_foreign_origin_with_the_good_cookie_is_refused_on_websocket(url):
    *_, cookie = await log_in(url, "alice", "wonderland")
    async with aiohttp.ClientSession(headers={"Cookie": f"{COOKIE}={cookie}", "Origin": url},
                                     cookie_jar=aiohttp.DummyCookieJar()) as http:
        websocket = await RawWebSocket.open(http, url)
        await websocket.send("0")  # CONNECT to /
        assert (await websocket.next('2["welcome"')).startswith('2["welcome",{"user":"alice"')
        await websocket.close()
    async with aiohttp.ClientSession(headers={"Cookie": f"{COOKIE}={cookie}",
                                              "Origin": FOREIGN},
                                     cookie_jar=aiohttp.DummyCookieJar()) as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await RawWebSocket.open(http, url)
    assert refused.value.status == 400


def cookie_session_app() -> Flask:
    """The same Flask-Login calls on Flask's default session: a signed cookie the client
    holds, which the server cannot take back."""
    app = Flask(__name__)
    app.secret_key = secrets.token_bytes(32)
    LoginManager(app).user_loader(lambda user_id: flask_login_app.Member(user_id, "user"))

    @app.post("/login")
    def login():
        login_user(flask_login_app.Member("alice", "user"))
        return "", 204

    @app.post("/logout")
    def logout():
        logout_user()
        return "", 204

    @app.get("/me")
    def me():
        return {"user": current_user.id} if current_user.is_authenticated else ("", 401)

    return app


async def test_on_flasks_default_session_the_old_cookie_outlives_logout():
    """Why the example keeps the session on the server."""
    async with serve_werkzeug(cookie_session_app()) as base, \
            aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        async with http.post(base + "/login") as reply:
            old = {"Cookie": f"{COOKIE}={reply.cookies[COOKIE].value}"}
        async with http.post(base + "/logout", headers=old) as reply:
            assert reply.status == 204
            new = {"Cookie": f"{COOKIE}={reply.cookies[COOKIE].value}"}
        async with http.get(base + "/me", headers=new) as reply:
            assert reply.status == 401  # the browser, with the cookie /logout set, is out
        async with http.get(base + "/me", headers=old) as reply:
            assert (reply.status, await reply.json()) == (200, {"user": "alice"})


async def test_python_m_serves_and_stops():
    """``python -m examples.native.flask_login_app``, with its real (throttled) policy: a
    login, a welcome over its cookie; Ctrl-C stops it."""
    async with python_m("examples.native.flask_login_app") as running:
        async with asyncio.timeout(15):
            while True:
                running.assert_running()
                try:
                    status, _, cookie = await log_in(running.url, "alice", "wonderland")
                    break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
        welcome = (await connect_with(running.url, cookie)).welcome
    assert status == 200
    assert welcome == {"user": "alice", "role": "user", "server": "native-flask-login"}
    assert "wonderland" not in running.output
