"""Two nodes of each server and one real Redis: authentication state is valid on every node."""

import asyncio
import importlib
import os
import shutil
import socket
import subprocess
from contextlib import asynccontextmanager

import aiohttp
import pytest
from redis import asyncio as aioredis

from shared.web import ENGINE
from tests.client import python_client, until
from tests.raw_client import raw_handshake

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
SECRET = "cluster-test-secret-shared-by-both-nodes-0123456789"


@pytest.fixture
async def redis_url():
    """A real redis-server on a random loopback port, stopped when the test ends."""
    if not os.access(REDIS_SERVER, os.X_OK):  # a failure, never a skip: `make redis` installs it
        pytest.fail("no redis-server: run `make redis` (apt-get install redis-server)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = aioredis.from_url(url)
    try:
        await until_ready(client)
        yield url
    finally:
        await client.aclose()
        process.terminate()
        process.wait(10)


async def until_ready(client) -> None:
    for _ in range(100):
        try:
            await client.ping()
            return
        except OSError:
            await asyncio.sleep(0.05)
        except aioredis.ConnectionError:
            await asyncio.sleep(0.05)
    raise RuntimeError("redis-server did not start")


@pytest.fixture
async def nodes(impl, servers, redis_url, monkeypatch):
    """Nodes A and B of the implementation under test, sharing TOKEN_SECRET and Redis."""
    monkeypatch.setenv("TOKEN_SECRET", SECRET)
    servers.policy = None  # each node builds its own, from the environment and Redis
    create_app = importlib.import_module(f"{impl}.app").create_app
    a = await servers.create(create_app, redis_url=redis_url)
    b = await servers.create(create_app, redis_url=redis_url)
    return {"a": a, "b": b, "apps": [runner.app for runner, _ in servers.running[-2:]]}


async def login(url: str) -> str:
    async with aiohttp.ClientSession() as http, http.post(
            url + "/login", json={"username": "alice", "password": "wonderland"}) as response:
        assert response.status == 200
        return (await response.json())["token"]


async def test_a_token_from_node_a_is_accepted_by_node_b(nodes):
    token = await login(nodes["a"])
    answer = await raw_handshake(nodes["b"], query=f"token={token}")
    assert answer.connected and answer.welcome["user"] == "alice"


async def test_failures_on_node_a_count_towards_the_throttle_on_node_b(nodes):
    token = await login(nodes["a"])
    for _ in range(10):  # the default limit: 10 guessing failures per minute and address
        assert not (await raw_handshake(nodes["a"], query="token=guess.guess.guess")).connected
    blocked = await raw_handshake(nodes["b"], query=f"token={token}")
    assert not blocked.connected
    assert blocked.status == 403 or blocked.connect_error["data"] == {"code": "throttled"}


@asynccontextmanager
async def alice_on_node_b(nodes, event: str):
    """Alice logs in on node A and connects to node B; yields her client and the ``event``s
    it receives."""
    token = await login(nodes["a"])
    async with python_client() as client:
        received = []
        client.on(event, received.append)
        await client.connect(f"{nodes['b']}?token={token}", wait_timeout=3)
        yield client, received, token


async def test_revoking_on_node_a_ends_the_socket_on_node_b_and_refuses_it_everywhere(nodes):
    async with alice_on_node_b(nodes, "session_ended") as (client, ended, token):
        async with aiohttp.ClientSession() as http, http.post(
                nodes["a"] + "/logout", headers={"Authorization": f"Bearer {token}"}) as response:
            assert response.status == 200
        await until(lambda: ended)
        assert ended == [{"reason": "revoked_token", "message": "Token revoked"}]
        await until(lambda: not client.connected)
    for node in ("a", "b"):
        assert not (await raw_handshake(nodes[node], query=f"token={token}")).connected


async def test_an_emit_to_a_user_from_node_a_reaches_the_user_on_node_b(nodes):
    async with alice_on_node_b(nodes, "notice") as (_, notices, _token):
        node_a = nodes["apps"][0][ENGINE]
        await node_a.sio.emit("notice", {"text": "hello from A"}, room="user:alice")
        await until(lambda: notices)
    assert notices == [{"text": "hello from A"}]


async def test_the_balancer_keeps_each_session_on_its_node_and_spreads_new_ones(nodes,
                                                                               servers):
    from cluster.balancer import create_app

    served_by = []
    for index, node_app in enumerate(nodes["apps"]):
        async def count(socket, index=index):
            served_by.append(index)

        node_app[ENGINE].sockets.on("connection", count)
    balanced = await servers.serve(create_app([nodes["a"], nodes["b"]]))
    token = await login(balanced)
    for _ in range(4):  # polling first, then the upgrade: every request must reach one node
        async with python_client() as client:
            await client.connect(f"{balanced}?token={token}", wait_timeout=3)
            await until(lambda: client.transport() == "websocket")
            handshake = await client.call("handshake", timeout=3)
            assert handshake["headers"]["host"] == balanced.removeprefix("http://")
    assert sorted(served_by) == [0, 0, 1, 1]
