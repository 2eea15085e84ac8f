"""Engine.IO sessions that join nothing: closed after the connect timeout, capped per address."""

import asyncio
import inspect
import json

import aiohttp
import socketio

from shared.policy import Policy
from tests.cases import ALICE
from tests.client import from_address, make_policy, until
from tests.raw_client import RawWebSocket, raw_handshake


async def open_engine_io_session(url: str, query: str = "", http=None) -> str:
    """The first request of a connection, and nothing after it: no CONNECT, ever."""
    async with (http or aiohttp.ClientSession()) as session, session.get(
            f"{url}/socket.io/?EIO=4&transport=polling&{query}") as response:
        assert response.status == 200, await response.text()
        return json.loads((await response.text())[1:])["sid"]


def gone(engine, sid: str) -> bool:
    """Closed by the server (python-engineio forgets a closed session lazily)."""
    socket = engine.sio.eio.sockets.get(sid)
    return socket is None or socket.closed


async def test_a_session_that_never_connects_is_closed_after_the_connect_timeout(impl,
                                                                                 servers):
    assert inspect.signature(impl.engine).parameters["connect_timeout"].default == 45.0
    url = await servers.engine(impl.engine(connect_timeout=0.3))
    sid = await open_engine_io_session(url)
    engine = servers.running[-1][1]
    await until(lambda: gone(engine, sid), timeout=2)
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
    await asyncio.sleep(0.2)  # the scenario: a CONNECT sent 0.1 s before the timeout
    async with aiohttp.ClientSession() as http:
        polled = f"{url}/socket.io/?EIO=4&transport=polling&sid={sid}"
        async with http.post(polled, data=b"40", headers={"Content-Type": "text/plain"}):
            pass
        # refused at 0.7 s, past the timeout; the timer looks again, finds nothing
        await until(lambda: gone(engine, sid), timeout=3)
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
    engine = servers.running[-1][1]
    await until(lambda: not engine.sio.environ)  # python-engineio has seen every close
    for _ in range(3):
        await open_engine_io_session(url, f"token={tokens[ALICE]}")
    answer = await raw_handshake(url, query=f"token={tokens[ALICE]}")
    assert (answer.status, answer.body) == (429, "too many open connections")
