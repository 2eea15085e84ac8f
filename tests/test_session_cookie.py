"""The session cookie, from outside, on both servers, with each storage (this process's memory,
and a real redis-server): every row of ``SESSION_CASES`` (tests/cases.py; the Node servers run
them in test_originals_sessions.py), a logout that ends the live connection within two
seconds, the session as each era's handlers read it, and the cookie's attributes over http and
behind a TLS proxy. Across nodes: test_cluster_sessions.py."""

import asyncio
import time
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp_session import get_session
from redis import asyncio as aioredis

from shared.policy.session_store import SESSION_TTL_SECONDS, SessionStore, new_session_id
from shared.redis_state import RedisRevokedTokens, client_options
from shared.webapp.app import ENGINE
from tests.cases import SESSION_CASES, SessionCase
from tests.client import Verdict, connect, make_policy, python_client, until
from tests.raw_client import raw_handshake
from tests.test_cluster import RedisServer

SHORT_TTL = 1  # seconds: the expired row's server
GOOD = next(case for case in SESSION_CASES if case.id == "session-good")


# --8<-- [start:handler-legacy]
async def whose_session_legacy(socket):
    """0.9: ``authorization`` put the session on ``handshake_data``: ``socket.handshake``."""
    return socket.handshake["session"]["user"]
# --8<-- [end:handler-legacy]


# --8<-- [start:handler-middleware]
async def whose_session_middleware(socket):
    """1.0+: Socket.IO 4's ``socket.request.session``. The request that opened the connection
    went through aiohttp-session's middleware, which keeps the session it read on it."""
    session = await get_session(socket.aiohttp_request)
    return session["user"]
# --8<-- [end:handler-middleware]


HANDLERS = {"legacy": whose_session_legacy, "middleware": whose_session_middleware}


@dataclass
class Storage:
    """Where the servers under test keep sessions: ``memory``, or ``redis`` (a real server,
    and the revocations and the revocation bus in it too, as ``--redis`` runs)."""

    name: str
    redis: RedisServer | None = None
    clients: list = field(default_factory=list)

    def policy(self, ttl: int):
        if self.redis is None:
            return make_policy(sessions=SessionStore.in_memory(ttl))
        client = aioredis.from_url(self.redis.url, **client_options())
        self.clients.append(client)
        return make_policy(sessions=SessionStore.in_redis(client, ttl),
                           revoked=RedisRevokedTokens(client))

    @property
    def options(self) -> dict:
        return {"redis_url": self.redis.url} if self.redis else {}


@pytest.fixture(params=["memory", "redis"])
async def storage(request, tmp_path):
    """Asked for before ``servers``: the servers stop before Redis does."""
    if request.param == "memory":
        yield Storage("memory")
        return
    redis = RedisServer(tmp_path / "redis")
    await redis.start()
    storage = Storage("redis", redis)
    try:
        yield storage
    finally:
        for client in storage.clients:
            await client.aclose()
        redis.stop()


async def serve(impl, servers, storage: Storage, ttl: int = SESSION_TTL_SECONDS) -> str:
    """A real server of ``impl`` whose sessions last ``ttl`` seconds, with the handler above."""
    servers.policy = storage.policy(ttl)

    def create_app(**options):
        app = impl.create_app(**options)
        app[ENGINE].of("/").on("whose-session", HANDLERS[impl.id])
        return app

    return await servers.create(create_app, **storage.options)


async def login(url: str, user: str = "alice", password: str = "wonderland") -> str:
    """``POST /login``: the session id its cookie holds (which no log may show)."""
    async with aiohttp.ClientSession() as http, http.post(
            url + "/login", json={"username": user, "password": password}) as response:
        assert response.status == 200, await response.text()
        return response.cookies["session"].value  # recorded by the log check as it was made


async def logout(url: str, cookie: str, path: str = "/logout") -> tuple[int, dict, list[str]]:
    async with aiohttp.ClientSession() as http, http.post(
            url + path, headers={"Cookie": cookie}) as response:
        return response.status, await response.json(), response.headers.getall("Set-Cookie", [])


async def cookie_for(case: SessionCase, url: str, policy) -> tuple[str | None, str]:
    """The Cookie header (None: none) and the query string the case's handshake sends.
    aiohttp-session's cookie, ``session`` over plain http, holds a bare random id with no
    signature: ``unsigned`` is a value of another shape than the ids, one no login made."""
    if case.session == "none":
        return None, ""
    if case.session == "unknown":
        return f"session={new_session_id()}", ""
    if case.session == "unsigned":  # a value of no shape an id of ours has
        return "session=abc", ""
    session_id = await login(url)
    if case.session == "tampered":
        return f"session={session_id[:-1]}{'0' if session_id[-1] != '0' else '1'}", ""
    if case.session == "logged-out":
        assert (await logout(url, f"session={session_id}"))[0] == 200
    if case.session == "duplicated":
        return f"session={session_id}; session={await login(url)}", ""
    if case.session == "good+bob-token":
        return f"session={session_id}", f"?token={policy.tokens.issue('bob', 'admin')}"
    return f"session={session_id}", ""


async def handshake(url: str, case: SessionCase, cookie: str | None, query: str, refusals):
    headers = {**({"Cookie": cookie} if cookie else {}), "Origin": case.origin or url}
    transports = ["websocket"] if case.transport == "websocket" else None  # None: poll first
    return await connect(url + query, refusals, headers=headers, transports=transports)


@pytest.mark.parametrize("case", SESSION_CASES, ids=lambda case: case.id)
async def test_session_cookie(impl, storage, servers, case, refusals):
    expired = case.session == "expired"
    url = await serve(impl, servers, storage, ttl=SHORT_TTL if expired else SESSION_TTL_SECONDS)
    cookie, query = await cookie_for(case, url, servers.policy)
    result = await handshake(url, case, cookie, query, refusals)
    if expired:  # accepted while it lasts, refused once its lifetime is over
        assert result.verdict == Verdict.expected("alice"), result.seen
        async with asyncio.timeout(SHORT_TTL + 4):
            while result.verdict.accepted:
                result = await handshake(url, case, cookie, query, refusals)
    assert result.verdict == Verdict.expected(case.expect), result.seen
    if result.verdict.accepted:
        assert result.welcome == {"user": "alice", "role": "user", "server": impl.id}


async def test_each_era_s_handlers_read_the_session(impl, storage, servers):
    url = await serve(impl, servers, storage)
    session_id = await login(url, "bob", "builder")
    async with python_client() as client:
        await client.connect(url, headers={"Cookie": f"session={session_id}"}, wait_timeout=3)
        assert await client.call("whose-session", timeout=3) == "bob"
        handshake = await client.call("handshake", timeout=3)
    assert session_id not in str(handshake)  # the cookie's value is never shown
    if impl.id == "legacy":  # 0.9's handshake_data.session, shown with the handshake
        assert {key: handshake["session"][key] for key in ("user", "role")} == {
            "user": "bob", "role": "admin"}
    else:  # 1.0+ keeps it off socket.handshake, as Socket.IO 4 does
        assert "session" not in handshake


async def test_a_logout_ends_the_live_connection_within_two_seconds(impl, storage, servers,
                                                                    refusals):
    url = await serve(impl, servers, storage)
    cookie = f"session={await login(url)}"
    async with python_client() as client:
        ended = []
        client.on("session_ended", ended.append)
        await client.connect(url, headers={"Cookie": cookie}, wait_timeout=3)
        status, body, set_cookies = await logout(url, cookie)
        assert (status, body) == (200, {"revoked": True})
        assert [line.split(";")[0] for line in set_cookies] == ['session=""']  # cleared
        started = time.monotonic()
        await until(lambda: ended and client.eio.state == "disconnected", timeout=2)
    assert time.monotonic() - started < 2
    assert ended == [{"reason": "invalid_session", "message": "Session expired or unknown"}]
    again = await handshake(url, GOOD, cookie, "", refusals)
    assert again.verdict == Verdict.expected("invalid_session"), again.seen
    # logging out again ends nothing more: the cookie is cleared all the same
    status, body, set_cookies = await logout(url, cookie)
    assert (status, body) == (401, {"error": "invalid_session"})
    assert [line.split(";")[0] for line in set_cookies] == ['session=""']


@pytest.mark.parametrize("logged_out", ["session", "token"])
async def test_a_connection_opened_with_a_token_and_the_session_ends_with_either(
        impl, storage, servers, logged_out):
    """A page's handshake carries the session cookie beside whatever token it sends: the
    logout of either credential ends the connection (it was kept on the token alone)."""
    url = await serve(impl, servers, storage)
    cookie = f"session={await login(url)}"
    token = servers.policy.tokens.issue("alice", "user")
    async with python_client() as client:
        ended = []
        client.on("session_ended", ended.append)
        await client.connect(f"{url}?token={token}", headers={"Cookie": cookie},
                             wait_timeout=3)
        headers = ({"Cookie": cookie} if logged_out == "session"
                   else {"Authorization": f"Bearer {token}"})
        async with aiohttp.ClientSession() as http, http.post(url + "/logout",
                                                              headers=headers) as response:
            assert await response.json() == {"revoked": True}
        await until(lambda: ended and client.eio.state == "disconnected", timeout=2)


async def test_log_out_everywhere_ends_the_user_s_sessions(impl, storage, servers, refusals):
    url = await serve(impl, servers, storage)
    first, second = f"session={await login(url)}", f"session={await login(url)}"
    bobs = f"session={await login(url, 'bob', 'builder')}"
    async with python_client() as alice, python_client() as bob:
        ended = []
        alice.on("session_ended", ended.append)
        await alice.connect(url, headers={"Cookie": first}, wait_timeout=3)
        await bob.connect(url, headers={"Cookie": bobs}, wait_timeout=3)
        assert (await logout(url, second, "/logout-everywhere"))[:2] == (
            200, {"revoked": True, "everywhere": True})
        await until(lambda: ended and alice.eio.state == "disconnected", timeout=2)
        assert ended == [{"reason": "logged_out", "message": "Logged out everywhere"}]
        assert bob.connected
    for cookie in (first, second):
        refused = await handshake(url, GOOD, cookie, "", refusals)
        assert refused.verdict == Verdict.expected("logged_out"), refused.seen
    fresh = await handshake(url, GOOD, f"session={await login(url)}", "", refusals)
    assert fresh.verdict == Verdict.expected("alice")


async def test_behind_a_tls_proxy_the_cookie_is_host_only_and_secure(impl, servers, refusals):
    """``X-Forwarded-Proto: https`` from the trusted proxy: ``__Host-session``, Secure, and
    a logout deletes it with the same attributes (a browser ignores any other deletion)."""
    servers.policy = make_policy(trusted_proxies=["127.0.0.1"])
    url = await servers.app(impl)
    https = {"X-Forwarded-Proto": "https"}
    async with aiohttp.ClientSession() as http:
        async with http.post(url + "/login", headers=https,
                             json={"username": "alice", "password": "wonderland"}) as response:
            [line] = response.headers.getall("Set-Cookie")
            session_id = response.cookies["__Host-session"].value
        name, _, attributes = line.partition("; ")
        assert name == f"__Host-session={session_id}"
        assert [a for a in attributes.split("; ") if not a.startswith("expires=")] == [
            "HttpOnly", f"Max-Age={SESSION_TTL_SECONDS}", "Path=/", "SameSite=Lax", "Secure"]
        host_cookie = {"Cookie": f"__Host-session={session_id}", **https}
        plain = await connect(url, refusals, headers={"Cookie": f"session={session_id}", **https})
        assert plain.verdict == Verdict.expected("missing_credentials")  # never the other one
        secure = await connect(url, refusals, headers=dict(host_cookie))  # it takes the Cookie
        assert secure.verdict == Verdict.expected("alice")
        async with http.post(url + "/logout", headers=host_cookie) as response:
            assert response.status == 200
            assert response.headers.getall("Set-Cookie") == [
                '__Host-session=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; '
                'Max-Age=0; Path=/; SameSite=Lax; Secure']


def hostile_cookies(live: str) -> list[tuple[str, int]]:
    """Session cookies a client may forge, around a live session id, and what /logout answers:
    401 ``invalid_session`` for one session cookie that names no session, 400
    ``malformed_credentials`` for none that can be read (too long, empty, two, or the TLS
    name over plain http)."""
    return [(f"session={live[:-1]}é", 401), (f'session="{live}"', 401),
            (f"session={live},{live}", 401), (f"session={live.upper()}", 401),
            ("session=" + "f" * 4000, 400), ("session=;session=;session=", 400),
            (f"session=%{live[2:]}", 401), (f"session={live}; session={live}", 400),
            (f"session={live}=", 401), (f'x="a;session={live}"', 401),
            ("session=../../etc/passwd", 401), (f"__Host-session={live}", 400)]


async def test_a_hostile_session_cookie_is_refused_never_a_5xx(impl, storage, servers):
    url = await serve(impl, servers, storage)
    live = await login(url)
    for cookie, status in hostile_cookies(live):
        answer = await raw_handshake(url, headers={"Cookie": cookie})
        refused = ((answer.status, answer.body) == (403, "handshake unauthorized")
                   if impl.id == "legacy" else answer.status == 200 and answer.connect_error)
        assert refused, (cookie, answer)
        for path in ("/logout", "/logout-everywhere"):
            async with aiohttp.ClientSession() as http, http.post(
                    url + path, headers={"Cookie": cookie}) as response:
                assert response.status == status, (path, cookie, response.status)
    assert (await raw_handshake(url, headers={"Cookie": f"session={live}"})).connected
