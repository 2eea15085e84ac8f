"""The session cookie across nodes: two nodes of each server behind HAProxy, sharing one Redis
(aiohttp-session's ``RedisStorage``), all real processes started with ``--session-ttl``. A
session begun on one node is read by the other and through HAProxy, a logout on one node ends
its connection on the other within two seconds, and a session ends when its lifetime is over.
(One process, both storages: tests/test_session_cookie.py.)"""

import pytest

from tests.client import ISSUED
from tests.raw_client import SESSION_ENDED, RawWebSocket
from tests.test_cluster import ALICE, handshake_through, running_cluster

SESSION_TTL = 3  # seconds, on the nodes' command line
REFUSED = {"legacy": (403, "handshake unauthorized", None),
           "middleware": (200, "", {"message": "Session expired or unknown",
                                    "data": {"code": "invalid_session"}})}


@pytest.fixture
async def cluster(impl, tmp_path):
    async with running_cluster(impl, tmp_path,
                               node_options=["--session-ttl", str(SESSION_TTL)]) as running:
        yield running


async def login(target) -> dict[str, str]:
    """``POST /login`` through ``target``: the Cookie header that sends its session back."""
    async with target.http() as http, http.post(
            target.url + "/login", json={"username": ALICE[0], "password": ALICE[1]}) as response:
        assert response.status == 200, await response.text()
        [line] = response.headers.getall("Set-Cookie")
        assert f"Max-Age={SESSION_TTL};" in line
        session_id = response.cookies["session"].value
    ISSUED.append(session_id)
    return {"Cookie": f"session={session_id}"}


async def joined(socket: RawWebSocket) -> None:
    await socket.send("0")
    assert (await socket.next("0")).startswith('0{"sid"')


async def test_a_session_from_one_node_is_accepted_by_the_other_and_through_haproxy(cluster):
    a, b = cluster.nodes
    cookie = await login(a)
    for target in (b, cluster):
        answer = await handshake_through(target, headers=cookie)
        assert answer.connected and answer.welcome["user"] == "alice", answer


async def test_a_logout_on_one_node_ends_the_session_s_connection_on_the_other(impl, cluster):
    a, b = cluster.nodes
    cookie = await login(cluster)
    async with b.http(headers=cookie) as http:
        socket = await RawWebSocket.open(http, b.url)
        await joined(socket)
        async with a.http() as on_a, on_a.post(a.url + "/logout", headers=cookie) as response:
            assert (response.status, await response.json()) == (200, {"revoked": True})
        assert '"reason":"invalid_session"' in await socket.next(SESSION_ENDED, timeout=2)
        assert await socket.closed_by_server(timeout=2), "node B closed the whole connection"
    for node in cluster.nodes:
        answer = await handshake_through(node, headers=cookie)
        assert (answer.status, answer.body, answer.connect_error) == REFUSED[impl.id]


async def test_a_session_ends_when_its_lifetime_is_over(impl, cluster):
    """``--session-ttl 3``: the session's connection ends then, and its cookie is refused."""
    a, b = cluster.nodes
    cookie = await login(a)
    async with b.http(headers=cookie) as http:
        socket = await RawWebSocket.open(http, b.url)
        await joined(socket)
        ended = await socket.next(SESSION_ENDED, timeout=SESSION_TTL + 2)
        assert '"reason":"invalid_session"' in ended
        assert await socket.closed_by_server(timeout=2)
    answer = await handshake_through(a, headers=cookie)
    assert (answer.status, answer.body, answer.connect_error) == REFUSED[impl.id]
