"""A credential's end ends the whole connection, in both styles, on one node: no re-join after
a logout or an expiry, no CONNECT that races a logout and survives it, and "log out
everywhere". Checked with a raw WebSocket, which can send what a well-behaved client never
would (a CONNECT after ``session_ended``). The same across nodes: tests/test_cluster.py."""

import asyncio
import json
import time

import aiohttp
import jwt
import pytest
from multidict import CIMultiDict

from tests.cases import ALICE, BOB
from tests.client import TEST_SECRET, RecordingTokenIssuer, make_policy, python_client, until
from tests.raw_client import SESSION_ENDED, RawWebSocket, raw_handshake

ADMIN = "/admin,"  # RawWebSocket keeps Socket.IO packets: 0 CONNECT, 2 EVENT, 4 CONNECT_ERROR


async def post(url: str, path: str, token: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http, http.post(
            url + path, headers={"Authorization": f"Bearer {token}"}) as response:
        return response.status, await response.json()


async def login(url: str, username: str, password: str) -> str:
    async with aiohttp.ClientSession() as http, http.post(
            url + "/login", json={"username": username, "password": password}) as response:
        assert response.status == 200, await response.text()
        return (await response.json())["token"]


async def joined(socket: RawWebSocket, namespace: str = "") -> None:
    await socket.send(f"0{namespace}")
    assert (await socket.next(f"0{namespace}")).startswith(f'0{namespace}{{"sid"')


# ---- a revoked or expired credential ends the connection ------------------------------------

async def test_after_logout_the_connection_is_closed_and_can_join_nothing(server, tokens):
    """The finding: the same WebSocket sent 40 and 40/admin, again after the logout and was
    welcomed as bob, until the token's exp."""
    async with aiohttp.ClientSession() as http:
        socket = await RawWebSocket.open(http, server, f"token={tokens[BOB]}")
        await joined(socket)
        await joined(socket, ADMIN)
        assert await post(server, "/logout", tokens[BOB]) == (200, {"revoked": True})
        assert '"reason":"revoked_token"' in await socket.next(SESSION_ENDED)
        assert await socket.closed_by_server(timeout=2), "the Engine.IO session is closed"


def code_of(connect_error: str) -> str:
    return json.loads(connect_error[1:])["data"]["code"]


def refused(socket: RawWebSocket) -> str | None:
    """The code of the CONNECT_ERROR this socket received, if any."""
    return next((code_of(p) for p in socket.packets if p.startswith("4{")), None)


async def ends_after_refusal(impl, socket: RawWebSocket) -> bool:
    """0.9 style: the handshake carried the credential, so the whole connection was opened
    with it and is closed. 1.0+ style: a connection holds no credential until a CONNECT; one
    refused stays open for another CONNECT, and is closed after ``connect_timeout`` if it
    joins nothing, as in Socket.IO 4."""
    if impl.id == "legacy":
        return await socket.closed_by_server(timeout=2)
    return not await socket.closed_by_server(timeout=0.3)


async def test_a_connect_after_logout_on_a_session_opened_before_is_refused(impl, server,
                                                                            tokens):
    """Handshake, logout, then the first CONNECT: refused."""
    async with aiohttp.ClientSession() as http:
        socket = await RawWebSocket.open(http, server, f"token={tokens[BOB]}")
        assert (await post(server, "/logout", tokens[BOB]))[0] == 200
        await socket.send("0")
        assert code_of(await socket.next("4{")) == "revoked_token"
        assert await ends_after_refusal(impl, socket)


async def test_after_expiry_the_connection_is_closed_and_a_late_connect_is_refused(
        impl, servers):
    url = await servers.app(impl)
    token = RecordingTokenIssuer(TEST_SECRET, ttl_seconds=1).issue("bob", "admin")
    expires_at = jwt.decode(token, options={"verify_signature": False})["exp"]
    async with aiohttp.ClientSession() as http:
        joined_early = await RawWebSocket.open(http, url, f"token={token}")
        await joined(joined_early)
        late = await RawWebSocket.open(http, url, f"token={token}")
        assert '"reason":"expired_token"' in await joined_early.next(SESSION_ENDED, timeout=3)
        assert await joined_early.closed_by_server(timeout=2)
        await until(lambda: time.time() > expires_at)  # the timer may fire a hair early
        await late.send("0")  # its handshake passed before the expiry; its CONNECT comes after
        assert code_of(await late.next("4{")) == "expired_token"
        assert await ends_after_refusal(impl, late)


# ---- no window between a CONNECT and a logout ------------------------------------------------

ROUNDS, SOCKETS = 4, 30


@pytest.mark.timeout(60)
async def test_no_connect_racing_a_logout_survives_it(impl, servers, policy):
    """The finding: 30 CONNECTs 0.5 ms apart, the token logged out in the middle: a few were
    let in and never ended. Now each is refused, or acknowledged and then ended."""
    url = await servers.app(impl)
    # 1.0+ sends the token in the CONNECT (auth); 0.9 had no auth, so its handshake carries it
    for _ in range(ROUNDS):
        token = policy.tokens.issue("alice", "user")
        query, auth = ((f"token={token}", "") if impl.id == "legacy"
                       else ("", f'{{"token":"{token}"}}'))
        async with aiohttp.ClientSession() as http:
            sockets = [await RawWebSocket.open(http, url, query) for _ in range(SOCKETS)]
            logout = None
            for n, socket in enumerate(sockets):
                if n == SOCKETS // 2:
                    logout = asyncio.ensure_future(post(url, "/logout", token))
                await socket.send("0" + auth)
                await asyncio.sleep(0.0005)  # the attacker's pace
            assert (await logout)[0] == 200
            outcomes = await asyncio.gather(*(socket.settled(timeout=3) for socket in sockets))
            assert "open" not in outcomes, f"let in and never ended: {outcomes.count('open')}"
            assert "closed" in outcomes  # the race ran: some got in before the logout
            assert {refused(socket) for socket in sockets} <= {None, "revoked_token"}


# ---- log out everywhere ----------------------------------------------------------------------

async def test_logout_everywhere_ends_every_connection_of_the_user_and_every_older_token(
        impl, server):
    first, second = await login(server, "alice", "wonderland"), await login(server, "alice",
                                                                             "wonderland")
    bobs = await login(server, "bob", "builder")
    by_password = ("username=alice&password=wonderland", "") if impl.id == "legacy" else (
        "", '{"username":"alice","password":"wonderland"}')
    async with aiohttp.ClientSession() as http:
        alices = [await RawWebSocket.open(http, server, f"token={first}"),
                  await RawWebSocket.open(http, server, f"token={second}"),
                  await RawWebSocket.open(http, server, by_password[0])]
        for socket, auth in zip(alices, ("", "", by_password[1]), strict=True):
            await socket.send("0" + auth)
            assert (await socket.next("0")).startswith('0{"sid"')
        bob = await RawWebSocket.open(http, server, f"token={bobs}")
        await joined(bob)

        assert await post(server, "/logout-everywhere", second) == (
            200, {"revoked": True, "everywhere": True})
        for socket in alices:
            assert '"reason":"logged_out"' in await socket.next(SESSION_ENDED)
            assert await socket.closed_by_server(timeout=2)
        assert not await bob.closed_by_server(timeout=0.3), "another user is not affected"
    for token in (first, second):
        answer = await raw_handshake(server, query=f"token={token}")
        assert not answer.connected
    fresh = await login(server, "alice", "wonderland")  # a login after it is a new session
    assert (await raw_handshake(server, query=f"token={fresh}")).welcome["user"] == "alice"


async def test_logout_everywhere_needs_a_token_of_the_user(server, tokens):
    two_cookies = [("Cookie", "token=garbage"), ("Cookie", f"token={tokens[ALICE]}")]
    async with aiohttp.ClientSession() as http:
        async with http.post(server + "/logout-everywhere",  # read as a handshake's are
                             headers=CIMultiDict(two_cookies)) as response:
            assert (response.status, await response.json()) == (
                400, {"error": "malformed_credentials"})
        async with http.post(server + "/logout-everywhere") as response:
            assert (response.status, await response.json()) == (
                400, {"error": "malformed_credentials"})
        async with http.post(server + "/logout-everywhere",
                             headers={"Authorization": "Bearer forged"}) as response:
            assert (response.status, await response.json()) == (401, {"error": "bad_credentials"})
    async with python_client() as client:  # nothing was ended
        await client.connect(f"{server}?token={tokens[ALICE]}", wait_timeout=3)
        await until(lambda: client.connected)


async def test_an_ended_token_cannot_log_its_user_out_everywhere(server, policy):
    """A stolen token, once revoked or logged out, cannot end its user's newer sessions."""
    stolen, older = policy.tokens.issue("alice", "user"), policy.tokens.issue("alice", "user")
    assert (await post(server, "/logout", stolen))[0] == 200
    assert (await post(server, "/logout-everywhere", older))[0] == 200
    fresh = policy.tokens.issue("alice", "user")
    async with aiohttp.ClientSession() as http:
        socket = await RawWebSocket.open(http, server, f"token={fresh}")
        await joined(socket)
        assert await post(server, "/logout-everywhere", stolen) == (
            401, {"error": "revoked_token"})
        # already logged out everywhere: the answer says so, and the cut-off does not move
        assert await post(server, "/logout-everywhere", older) == (
            200, {"revoked": True, "everywhere": True})
        assert not await socket.closed_by_server(timeout=0.3)


async def test_a_token_issued_in_the_same_second_after_logout_everywhere_is_valid(
        server, policy):
    """``iat`` keeps its fraction: "before now" is exact, not rounded to a second."""
    old = policy.tokens.issue("alice", "user")
    assert (await post(server, "/logout-everywhere", old))[0] == 200
    new = policy.tokens.issue("alice", "user")  # most often in the same second
    assert (await raw_handshake(server, query=f"token={new}")).connected
    assert not (await raw_handshake(server, query=f"token={old}")).connected


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


async def test_logout_revokes_the_token_everywhere_it_is_connected(impl, server, tokens):
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
    answer = await raw_handshake(server, query=f"token={token}")  # no longer opens one
    if impl.id == "legacy":
        assert (answer.status, answer.body) == (403, "handshake unauthorized")
    else:
        assert answer.connect_error == {"message": "Token revoked",
                                        "data": {"code": "revoked_token"}}
