"""Load and leaks: many handshakes at once, and what a client sends after its session closed."""

import asyncio

import aiohttp
import pytest

from shared.webapp.login import SESSIONS
from tests.cases import ALICE, EXPIRED
from tests.client import make_policy, until
from tests.raw_client import RawWebSocket, raw_handshake


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
