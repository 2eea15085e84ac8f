"""A credential's end ends the connection across nodes: two nodes of each server behind
HAProxy, sharing one Redis, all real processes. A logout or "log out everywhere" on one node
closes the connections the other node holds, and a CONNECT racing it there survives nothing.
(One node: tests/test_revocation.py.)"""

import asyncio

import pytest

from tests.raw_client import SESSION_ENDED, RawWebSocket, raw_handshake
from tests.test_cluster import ALICE, BOB, login, logout_until_done, running_cluster


@pytest.fixture
async def cluster(impl, tmp_path):
    async with running_cluster(impl, tmp_path) as running:
        yield running


async def post(target, path: str, token: str) -> int:
    async with target.http() as http, http.post(
            target.url + path, headers={"Authorization": f"Bearer {token}"}) as response:
        return response.status


async def test_a_logout_on_one_node_closes_the_connection_on_the_other(cluster):
    a, b = cluster.nodes
    token = await login(a, BOB)
    async with b.http() as http:
        socket = await RawWebSocket.open(http, b.url, f"token={token}")
        for namespace in ("", "/admin,"):
            await socket.send(f"0{namespace}")
            await socket.next(f'0{namespace}{{"sid"')
        assert await post(a, "/logout", token) == 200
        assert '"reason":"revoked_token"' in await socket.next(SESSION_ENDED, timeout=5)
        assert await socket.closed_by_server(timeout=3), "node B closed the whole connection"


@pytest.mark.timeout(60)
async def test_no_connect_racing_a_logout_on_another_node_survives_it(impl, cluster):
    a, b = cluster.nodes
    for _ in range(3):
        token = await login(a)
        query, auth = ((f"token={token}", "") if impl.id == "legacy"
                       else ("", f'{{"token":"{token}"}}'))
        async with b.http() as http:
            sockets = [await RawWebSocket.open(http, b.url, query) for _ in range(30)]
            logout = None
            for n, socket in enumerate(sockets):
                if n == len(sockets) // 2:
                    logout = asyncio.ensure_future(post(a, "/logout", token))
                await socket.send("0" + auth)
                await asyncio.sleep(0.0005)  # the attacker's pace
            assert await logout == 200
            outcomes = await asyncio.gather(*(socket.settled(timeout=5) for socket in sockets))
            assert "open" not in outcomes, f"let in and never ended: {outcomes.count('open')}"


async def test_logout_everywhere_on_one_node_ends_the_user_on_every_node(impl, cluster):
    a, b = cluster.nodes
    first, second, bobs = await login(a), await login(b), await login(a, BOB)
    by_password = ("username=alice&password=wonderland", "") if impl.id == "legacy" else (
        "", '{"username":"alice","password":"wonderland"}')
    async with a.http() as on_a, b.http() as on_b:
        alices = [await RawWebSocket.open(on_a, a.url, f"token={first}"),
                  await RawWebSocket.open(on_b, b.url, f"token={second}"),
                  await RawWebSocket.open(on_b, b.url, by_password[0])]
        for socket, auth in zip(alices, ("", "", by_password[1]), strict=True):
            await socket.send("0" + auth)
            await socket.next('0{"sid"')
        bob = await RawWebSocket.open(on_b, b.url, f"token={bobs}")
        await bob.send("0")
        await bob.next('0{"sid"')
        assert await post(a, "/logout-everywhere", first) == 200
        for socket in alices:
            assert '"reason":"logged_out"' in await socket.next(SESSION_ENDED, timeout=5)
            assert await socket.closed_by_server(timeout=3)
        assert not await bob.closed_by_server(timeout=0.3), "another user is not affected"
        for node, http in ((a, on_a), (b, on_b)):  # older tokens are refused on every node
            for token in (first, second):
                answer = await raw_handshake(node.url, query=f"token={token}", http=http)
                assert not answer.connected, answer
    fresh = await login(b, ALICE)
    async with a.http() as http:
        socket = await RawWebSocket.open(http, a.url, f"token={fresh}")
        await socket.send("0")
        assert (await socket.next("0")).startswith('0{"sid"')
        await socket.close()


@pytest.mark.timeout(60)
async def test_after_a_long_redis_outage_a_logout_reaches_the_other_node_within_seconds(
        cluster):
    """The finding: node B's listener backed off (1, 2, 4, 8 s…) while Redis was down, and
    heard of a logout made after Redis came back only 8 s later; the revoked connection
    answered events meanwhile. It now listens again every second."""
    a, b = cluster.nodes
    token = await login(a, BOB)
    async with b.http() as http:
        socket = await RawWebSocket.open(http, b.url, f"token={token}")
        await socket.send("0")
        await socket.next('0{"sid"')
        cluster.redis.stop()
        await asyncio.sleep(12)  # the outage: the old back-off waited 8 s more after it
        await cluster.redis.start()
        assert 200 in await logout_until_done(a, token)
        assert '"reason":"revoked_token"' in await socket.next(SESSION_ENDED, timeout=3)
        assert await socket.closed_by_server(timeout=3)
