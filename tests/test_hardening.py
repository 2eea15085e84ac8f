"""Bad input, failure, abuse and secrets: proven for both servers through the same fixture."""

import asyncio
import inspect
import json
import logging

import aiohttp
import pytest
import socketio
import yarl

from shared.policy import Policy
from shared.policy.tokens import TokenIssuer
from shared.webapp.login import SESSIONS
from tests.cases import ALICE, BOB, EXPIRED
from tests.client import (
    TEST_SECRET,
    RecordingTokenIssuer,
    from_address,
    make_policy,
    python_client,
    try_login,
    until,
)
from tests.raw_client import RawWebSocket, raw_handshake

MALFORMED = {"message": "Malformed credentials", "data": {"code": "malformed_credentials"}}


def refused(answer) -> bool:
    """A clear refusal, at whichever level the server gives it."""
    return answer.status != 200 or answer.connect_error is not None


# --8<-- [start:bad-input]
BAD_INPUT = {
    "query-over-the-size-limit": {"query": "token=" + "a" * 9000},
    "header-over-the-size-limit": {"headers": {"X-Padding": "b" * 9000}},
    "invalid-percent-encoding": {"query": "token=%zz%"},
    "invalid-utf8": {"query": "username=alice&password=%ff%fe%fd"},
    "duplicate-keys": {"query": "token=<alice>&token=not-a-jwt"},  # 4.8 reads the last
    "malformed-cookie-header": {"headers": {"Cookie": "token"}},
    "auth-not-an-object": {"auth": "[1, 2, 3]"},
    "auth-not-json": {"auth": '{"token": '},
    "auth-deeply-nested": {"auth": '{"token": ' + "[" * 5000 + "]" * 5000 + "}"},
    "auth-huge": {"auth": json.dumps({"token": "x" * 100_000})},
    "token-of-the-wrong-type": {"auth": '{"token": 42}'},
    "password-of-the-wrong-type": {"auth": '{"username": "alice", "password": ["w"]}'},
}
# --8<-- [end:bad-input]


@pytest.mark.parametrize("bad", BAD_INPUT.values(), ids=BAD_INPUT.keys())
async def test_bad_input_is_refused_and_the_server_keeps_serving(server, tokens, bad):
    bad = {key: value.replace("<alice>", tokens[ALICE]) if isinstance(value, str) else value
           for key, value in bad.items()}
    answer = await asyncio.wait_for(raw_handshake(server, **bad), 10)
    assert refused(answer), answer
    after = await raw_handshake(server, query=f"token={tokens[ALICE]}")
    assert after.connected


async def test_undecodable_auth_next_to_a_valid_query_token_is_still_refused(server, tokens):
    """The legacy server ignores ``auth``, but a packet it cannot decode is never accepted."""
    answer = await raw_handshake(server, query=f"token={tokens[ALICE]}", auth='{"token": ')
    assert answer.connect_error == MALFORMED


@pytest.mark.parametrize(
    "body", [b"{" + b" " * 70_000 + b"}", b'{"username": "alice", "password": ' + b"[" * 5000],
    ids=["oversized", "deeply-nested"])
async def test_login_with_hostile_bodies_is_400_and_the_server_keeps_serving(server, body):
    async with aiohttp.ClientSession() as http:
        async with http.post(server + "/login", data=body,
                             headers={"Content-Type": "application/json"}) as response:
            assert response.status in (400, 413)
        async with http.post(server + "/login",
                             json={"username": "alice", "password": "wonderland"}) as response:
            assert response.status == 200


class BrokenPolicy:
    """A policy with a bug: every decision raises."""

    tokens = TokenIssuer(TEST_SECRET)
    trusted_proxies = frozenset()
    max_sessions_per_address = 50

    def client(self, peer, headers):
        return peer

    async def authenticate(self, presented, *, client=""):
        raise RuntimeError("policy bug")


async def test_a_policy_error_is_a_logged_refusal_never_an_accept(servers, tokens, impl,
                                                                  caplog):
    servers.policy = BrokenPolicy()
    url = await servers.app(impl)
    answer = await raw_handshake(url, query=f"token={tokens[ALICE]}")
    assert refused(answer)
    assert answer.status == 500 or answer.connect_error == {"message": "Authorization failed"}
    assert "policy bug" in caplog.text


async def test_an_undecodable_credential_is_a_clean_refusal(server, caplog):
    for auth in ('{"token": "\\ud800"}', '{"username": "alice", "password": "\\udfff"}'):
        answer = await raw_handshake(server, auth=auth)
        assert answer.connect_error == MALFORMED or answer.status == 403, answer
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.exc_info], "no traceback for bad input"


# ---- origins ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("origin", "allowed"),
    [("http://evil.example", False), ("null", False), ("http://page.example", True), (None, True)],
    ids=["foreign", "null", "allowed", "none-sent"],
)
async def test_only_the_servers_own_and_allowed_origins_may_connect(impl, servers, tokens,
                                                                   origin, allowed):
    url = await servers.app(impl, allowed_origins=["http://page.example"])
    headers = {"Origin": origin} if origin else {}
    answer = await raw_handshake(url, query=f"token={tokens[ALICE]}", headers=headers)
    assert answer.connected is allowed
    async with aiohttp.ClientSession() as http:
        ws_url = url + f"/socket.io/?EIO=4&transport=websocket&token={tokens[ALICE]}"
        if allowed:
            async with http.ws_connect(ws_url, headers=headers) as ws:
                assert (await ws.receive_str()).startswith("0{")
        else:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refusal:
                await http.ws_connect(ws_url, headers=headers)
            assert refusal.value.status == 403
        async with http.post(url + "/login", headers=headers,
                             json={"username": "alice", "password": "wonderland"}) as response:
            assert (response.status == 200) is allowed


async def test_jsonp_is_refused_before_authorization_runs(server, tokens, refusals):
    """A JSONP answer is a script any page may load, cookie and all: none is served."""
    async with aiohttp.ClientSession() as http, http.get(
            f"{server}/socket.io/?EIO=4&transport=polling&j=0&token={tokens[ALICE]}") as response:
        assert (response.status, await response.text()) == (400, "JSONP polling is disabled")
    assert refusals.codes == ["jsonp_disabled"]


@pytest.mark.parametrize("site", ["same-site", "cross-site"])
async def test_a_request_from_another_page_without_origin_is_refused(server, tokens, site):
    """What a ``<script>`` on another port (same site: the cookie rides along) or another
    site sends: no Origin, and the browser's Sec-Fetch-Site."""
    headers = {"Sec-Fetch-Site": site, "Sec-Fetch-Mode": "no-cors",
               "Cookie": f"token={tokens[ALICE]}"}
    answer = await raw_handshake(server, headers=headers)
    assert (answer.status, answer.body) == (403, "origin not allowed")
    assert (await try_login(server, "alice", "wonderland", headers=headers))[0] == 403
    answer = await raw_handshake(server, headers={**headers, "Sec-Fetch-Site": "same-origin"})
    assert answer.connected, "the server's own pages still connect"


async def test_a_host_name_the_server_does_not_answer_to_is_refused(server, tokens):
    """DNS rebinding: evil.example resolved to this server; its page is then same-origin
    with Host evil.example, and would connect with the user's cookie."""
    port = server.rsplit(":", 1)[1]
    headers = {"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"}
    answer = await raw_handshake(server, query=f"token={tokens[ALICE]}", headers=headers)
    assert (answer.status, answer.body) == (421, "unknown host")
    headers = {"Host": f"localhost:{port}", "Origin": f"http://localhost:{port}"}
    assert (await raw_handshake(server, query=f"token={tokens[ALICE]}", headers=headers)
            ).connected


async def test_pages_carry_a_content_security_policy_and_nosniff(server):
    async with aiohttp.ClientSession() as http:
        async with http.get(server + "/") as page:
            policy = page.headers["Content-Security-Policy"]
            assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
            assert page.headers["X-Content-Type-Options"] == "nosniff"
        async with http.get(server + "/static/client.js") as script:
            assert script.headers["X-Content-Type-Options"] == "nosniff"
        async with http.get(server + "/nothing-here") as missing:  # aiohttp's own answer
            assert missing.status == 404
            assert missing.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(("path", "status"), [
    ("/static/vendor", 403),  # a folder: aiohttp lists none
    ("/static/%2e%2e/app.py", 404), ("/static/..%2fapp.py", 404),
    ("/static/vendor/../../app.py", 404), ("/static/CLIENT.JS", 404)])
async def test_static_serves_its_folder_and_nothing_outside_it(server, path, status):
    async with aiohttp.ClientSession() as http:
        async with http.get(server + "/static/vendor/socket.io.min.js") as script:
            assert script.status == 200 and "javascript" in script.content_type
        async with http.get(yarl.URL(server + path, encoded=True)) as other:
            assert other.status == status, path
            assert other.headers["X-Content-Type-Options"] == "nosniff"


async def test_a_page_of_the_server_itself_is_same_origin(server, tokens):
    answer = await raw_handshake(server, query=f"token={tokens[ALICE]}",
                                 headers={"Origin": server})
    assert answer.connected


# ---- sessions that never connect --------------------------------------------------------------

async def open_engine_io_session(url: str, query: str = "", http=None) -> str:
    """The first request of a connection, and nothing after it: no CONNECT, ever."""
    async with (http or aiohttp.ClientSession()) as session, session.get(
            f"{url}/socket.io/?EIO=4&transport=polling&{query}") as response:
        assert response.status == 200, await response.text()
        return json.loads((await response.text())[1:])["sid"]


async def test_a_session_that_never_connects_is_closed_after_the_connect_timeout(impl,
                                                                                 servers):
    assert inspect.signature(impl.engine).parameters["connect_timeout"].default == 45.0
    url = await servers.engine(impl.engine(connect_timeout=0.3))
    sid = await open_engine_io_session(url)
    await asyncio.sleep(0.6)
    async with aiohttp.ClientSession() as http, http.get(
            f"{url}/socket.io/?EIO=4&transport=polling&sid={sid}") as response:
        assert response.status == 400, "the session is gone"


async def test_a_connect_still_being_authorized_does_not_dodge_the_connect_timeout(impl,
                                                                                   servers):
    """A CONNECT sent just before the timeout and refused just after it: the session, which
    joined nothing, is closed all the same."""
    engine = impl.engine(connect_timeout=0.3)

    async def slow_refusal(namespace, sid, environ, auth=None):
        await asyncio.sleep(0.5)
        raise socketio.exceptions.ConnectionRefusedError("no")

    engine.hooks.add(engine.sockets, slow_refusal)
    url = await servers.engine(engine)
    sid = await open_engine_io_session(url)
    await asyncio.sleep(0.2)
    async with aiohttp.ClientSession() as http:
        polled = f"{url}/socket.io/?EIO=4&transport=polling&sid={sid}"
        async with http.post(polled, data=b"40", headers={"Content-Type": "text/plain"}):
            pass
        await asyncio.sleep(1.2)  # refused at 0.7 s; the timer looks again, finds nothing
        async with http.get(polled) as response:
            assert response.status == 400, "the session is gone"


async def test_a_session_that_left_every_namespace_is_closed_after_the_connect_timeout(
        impl, servers):
    """The finding: ``connect_timeout`` was armed once, so a session that joined, then left,
    was kept for as long as its client answered pings."""
    url = await servers.engine(impl.engine(connect_timeout=0.3))
    async with aiohttp.ClientSession() as http:
        stays, leaves = (await RawWebSocket.open(http, url), await RawWebSocket.open(http, url))
        for socket in (stays, leaves):
            await socket.send("0")
            await socket.next('0{"sid"')
        assert not await stays.closed_by_server(timeout=0.6), "a joined session is kept"
        await leaves.send("1")  # past the first deadline, it leaves /, its only namespace
        assert await leaves.closed_by_server(timeout=2)


class SlowTokenPolicy(Policy):
    """Every token check takes 0.2 s: the window a concurrent flood would slip through."""

    async def _check_token(self, token):
        await asyncio.sleep(0.2)
        return await super()._check_token(token)


async def test_concurrent_handshakes_cannot_slip_past_the_session_cap(impl, servers, tokens):
    servers.policy = SlowTokenPolicy(servers.policy.tokens, max_sessions_per_address=3)
    url = await servers.app(impl)
    async with aiohttp.ClientSession() as http:
        async def handshake():
            async with http.get(f"{url}/socket.io/?EIO=4&transport=polling"
                                f"&token={tokens[ALICE]}") as answer:
                return answer.status
        statuses = await asyncio.gather(*(handshake() for _ in range(12)))
    assert sorted(statuses) == [200] * 3 + [429] * 9


async def test_open_sessions_are_capped_per_address(impl, servers, tokens):
    servers.policy = make_policy(max_sessions_per_address=3)
    url = await servers.app(impl)
    for _ in range(3):
        await open_engine_io_session(url, f"token={tokens[ALICE]}")
    answer = await raw_handshake(url, query=f"token={tokens[ALICE]}")
    assert (answer.status, answer.body) == (429, "too many open connections")
    async with from_address("127.0.0.2") as http:  # another address is not affected
        await open_engine_io_session(url, f"token={tokens[ALICE]}", http=http)


async def test_refused_and_closed_handshakes_give_their_place_under_the_cap_back(
        impl, servers, tokens):
    servers.policy = make_policy(max_sessions_per_address=3)
    url = await servers.app(impl)
    for _ in range(5):  # refused: never opened, so never counted
        assert not (await raw_handshake(url, query="token=forged")).connected
    for _ in range(5):  # accepted, then closed by the client
        assert (await raw_handshake(url, query=f"token={tokens[ALICE]}")).connected
    await asyncio.sleep(0.1)
    for _ in range(3):
        await open_engine_io_session(url, f"token={tokens[ALICE]}")
    answer = await raw_handshake(url, query=f"token={tokens[ALICE]}")
    assert (answer.status, answer.body) == (429, "too many open connections")


# ---- live sessions ----------------------------------------------------------------------------

async def test_a_socket_is_ended_when_its_token_expires_and_a_fresh_token_reconnects(
    impl, servers
):
    issuer = RecordingTokenIssuer(TEST_SECRET, ttl_seconds=1)
    servers.policy = make_policy()
    url = await servers.app(impl)
    current = {"token": issuer.issue("alice", "user")}
    async with python_client() as client:
        ended, welcomes = [], []
        client.on("session_ended", ended.append)
        client.on("welcome", welcomes.append)
        # a callable: evaluated again on every connection attempt
        headers = lambda: {"Authorization": f"Bearer {current['token']}"}  # noqa: E731
        await client.connect(url, headers=headers, wait_timeout=3)
        await until(lambda: ended, timeout=5)
        assert ended == [{"reason": "expired_token", "message": "Token expired"}]
        # the namespace goes first, the Engine.IO transport just after: wait for both
        await until(lambda: not client.connected and client.eio.state == "disconnected")
        current["token"] = servers.policy.tokens.issue("alice", "user")
        await client.connect(url, headers=headers, wait_timeout=3)
        await until(lambda: len(welcomes) == 2)
        assert client.connected


async def test_logout_revokes_the_token_everywhere_it_is_connected(server, tokens):
    token = tokens[BOB]
    async with python_client() as first, python_client() as second:
        ended = []
        for client in (first, second):
            client.on("session_ended", ended.append)
            await client.connect(f"{server}?token={token}", wait_timeout=3)
        async with aiohttp.ClientSession() as http, http.post(server + "/logout",
                             headers={"Authorization": f"Bearer {token}"}) as response:
            assert await response.json() == {"revoked": True}
        await until(lambda: len(ended) == 2)
        assert ended[0]["reason"] == "revoked_token"
    answer = await raw_handshake(server, query=f"token={token}")
    assert refused(answer), "a revoked token no longer opens a connection"


# ---- load -------------------------------------------------------------------------------------

async def test_concurrent_mixed_handshakes_get_exactly_their_verdicts_and_leave_nothing(
    impl, servers, tokens, request
):
    count = request.config.getoption("--load-handshakes")
    # every handshake comes from one address here
    servers.policy = make_policy(max_sessions_per_address=count)
    url = await servers.app(impl)
    queries = [f"token={tokens[ALICE]}" if i % 2 else f"token={tokens[EXPIRED]}"
               for i in range(count)]
    answers = await asyncio.gather(*(raw_handshake(url, query=q, timeout=60) for q in queries))
    wrong = [i for i, answer in enumerate(answers) if answer.connected != bool(i % 2)]
    assert wrong == []
    runner, engine = servers.running[-1]

    def left_behind():
        # python-engineio purges closed sessions lazily, within one ping timeout: count live ones
        live = [s for s in engine.sio.eio.sockets.values() if not s.closed]
        return len(live) + len(engine.sio.environ) + len(runner.app[SESSIONS])

    await until(lambda: left_behind() == 0, timeout=10)
    assert (await raw_handshake(url, query=f"token={tokens[ALICE]}")).connected


@pytest.mark.parametrize("closing", ["1", "42["], ids=["engine-io-close", "undecodable"])
async def test_what_a_client_sends_after_its_session_closed_leaves_nothing(impl, servers,
                                                                           tokens, closing,
                                                                           caplog):
    """The finding: a CONNECT right behind an Engine.IO CLOSE (or a packet that makes the
    server close) was registered by python-socketio, which then failed with a traceback and
    kept the sid for good; 300 of them took 2 s, with no credential."""
    url = await servers.app(impl)
    engine = servers.running[-1][1]
    async with aiohttp.ClientSession() as http:
        for _ in range(10):
            socket = await RawWebSocket.open(http, url, f"token={tokens[ALICE]}")
            await socket.ws.send_str(closing)  # the session is closed...
            await socket.ws.send_str("40/admin,{}")  # ...and a CONNECT is already on its way
            await socket.close()
    manager = engine.sio.manager
    await until(lambda: not engine.sio.environ)
    assert manager.pending_connect == {} and all(
        not participants for rooms in manager.rooms.values() for participants in rooms.values())
    assert "Traceback" not in caplog.text and "handler error" not in caplog.text


async def test_no_session_id_reaches_a_log_line(server, tokens, caplog):
    """A polling session id lets its holder drive that session: logs show only its hash."""
    caplog.set_level(logging.DEBUG)
    async with python_client() as client:
        await client.connect(f"{server}?token={tokens[ALICE]}", wait_timeout=3)
        sid = client.eio.sid
        assert await client.call("handshake", timeout=3)
        await client.disconnect()
    await until(lambda: "sid=#" in caplog.text)  # the upgrade is logged once it has ended
    assert sid not in caplog.text


async def test_an_unknown_sid_is_refused_without_logging_its_value(server, tokens, caplog):
    async with aiohttp.ClientSession() as http:
        url = f"{server}/socket.io/?EIO=4&transport=polling&sid={tokens[ALICE]}"
        async with http.get(url) as response:
            assert response.status == 400
    assert "Invalid session (unknown sid, value not logged)" in caplog.text
