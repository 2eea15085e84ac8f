"""The 4.8 session-cookie app on several nodes: two real ``originals/v4/app.js`` processes
(socket.io 4.8.4, express-session) started with ``--redis``, one real redis-server, and HAProxy
in front of them with the Python cluster's own configuration (``cluster/haproxy.py``), all on
loopback ports and checked from outside. A session made on one node is read on the other; a
logout on one node ends the session's connection on the other; without HAProxy's stickiness,
polling fails; after a Redis restart, the nodes subscribe again and work as before."""

import asyncio
import json
import os
import subprocess
from collections import Counter
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from redis import asyncio as aioredis

from cluster import haproxy
from tests.client import python_client, until
from tests.node import ROOT, NodeServer, require_node
from tests.node_clients import CONNECT, Socket4
from tests.raw_client import raw_handshake
from tests.test_cluster import RedisServer, free_port

APP = "originals/v4/app.js"
# every node signs and checks session cookies and tokens with the same secrets
SECRETS = {"SESSION_SECRET": "session-secret-shared-by-every-node",
           "TOKEN_SECRET": "token-secret-shared-by-every-node-0123456789"}


@dataclass
class NodeCluster:
    redis: RedisServer
    nodes: list[NodeServer]
    haproxy: haproxy.HAProxy

    @property
    def url(self) -> str:
        return self.haproxy.url

    def addresses(self) -> list[str]:
        return [address(node) for node in self.nodes]


def address(node: NodeServer) -> str:
    """``127.0.0.1:PORT``, as HAProxy names a node and reports it."""
    return node.url.removeprefix("http://")


@asynccontextmanager
async def running_cluster(folder: Path):
    """Redis, two nodes of the 4.8 app sharing it, and HAProxy in front of them; all stopped
    on leaving. The nodes allow HAProxy's origin: the page a browser opens is HAProxy's."""
    require_node()
    if haproxy.executable() is None:  # a failure, never a skip: `make haproxy` installs it
        pytest.fail("no haproxy: run `make haproxy` (apt-get install haproxy)")
    redis = RedisServer(folder)
    await redis.start()
    port = free_port()
    nodes: list[NodeServer] = []
    balancer = None
    try:
        for _ in range(2):
            nodes.append(NodeServer(APP, "--redis", redis.url,
                                    "--allow-origin", f"http://127.0.0.1:{port}", env=SECRETS))
        balancer = haproxy.HAProxy(port=port, nodes=[address(node) for node in nodes],
                                   output=(folder / "haproxy.log").open("w"))
        balancer.start()  # sticky as for the Python nodes: "sid -> node", from the io cookie
        yield NodeCluster(redis, nodes, balancer)
    finally:
        if balancer is not None:
            balancer.stop()
            balancer.output.close()
        for node in nodes:
            node.stop()
        redis.stop()


@pytest.fixture
async def cluster(tmp_path):
    async with running_cluster(tmp_path) as running:
        yield running


# ---- as a browser does it ----------------------------------------------------------------
async def session_cookie(url: str) -> str:
    """``connect.sid=…`` after logging in as alice at ``url`` (a node, or HAProxy)."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http, http.post(
            f"{url}/login", data={"username": "alice", "password": "wonderland"}) as answer:
        # the whole answer: express-session sends its end once the store has saved the session
        assert (answer.status, (await answer.json())["user"]) == (200, "alice")
        return answer.headers["Set-Cookie"].split(";")[0]


async def logout(url: str, cookie: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http, http.post(
            f"{url}/logout", headers={"Cookie": cookie}) as answer:
        return answer.status, await answer.json()


def browser(cookie: str, page: str) -> dict:
    """The headers a browser sends from ``page`` with the user's cookie."""
    return {"Cookie": cookie, "Origin": page}


async def welcome_after_upgrade(url: str, headers: dict) -> dict:
    """A real client's way in: long-polling first, then the upgrade to WebSocket (python-engineio
    moves the Cookie out of ``headers`` into its cookie jar for the upgrade)."""
    async with python_client() as client:
        welcomes: list[dict] = []
        client.on("welcome", welcomes.append)
        await client.connect(url, headers=headers, wait_timeout=3)
        await until(lambda: welcomes and client.transport() == "websocket")
        return welcomes[0]


def requests_per_node(cluster: NodeCluster) -> Counter:
    """How many requests HAProxy has sent each node so far."""
    return Counter({node: int(row["stot"]) for node, row in cluster.haproxy.servers().items()})


async def answered_by(cluster: NodeCluster, connecting) -> tuple[str, dict | None]:
    """Which node HAProxy sent all the requests of ``connecting`` to, and the welcome."""
    before = requests_per_node(cluster)
    seen = await connecting
    grew = requests_per_node(cluster) - before
    assert len(grew) == 1, f"one connection's requests reached several nodes: {grew}"
    return next(iter(grew)), seen if isinstance(seen, dict) else seen.welcome


# ---- a session made on one node is read on every node ------------------------------------
async def test_a_session_made_through_haproxy_is_read_on_whichever_node_answers(cluster):
    cookie = await session_cookie(cluster.url)
    headers = browser(cookie, cluster.url)
    ways_in = {
        "long-polling": lambda: raw_handshake(cluster.url, headers=headers),
        "WebSocket only": lambda: CONNECT["4.8"](cluster.url, headers, "websocket"),
        "polling, then the upgrade": lambda: welcome_after_upgrade(cluster.url, dict(headers)),
    }
    for way, connecting in ways_in.items():
        nodes = []
        for _ in range(2):  # round robin: the second connection goes to the other node
            node, welcome = await answered_by(cluster, connecting())
            assert welcome["user"] == "alice", (way, welcome)
            nodes.append(node)
        assert sorted(nodes) == sorted(cluster.addresses()), way


async def test_a_session_made_on_one_node_is_read_on_the_other(cluster):
    a, b = cluster.nodes
    cookie = await session_cookie(a.url)
    for transport in ("polling", "websocket"):
        seen = await CONNECT["4.8"](b.url, browser(cookie, b.url), transport)
        assert seen.welcome["user"] == "alice", seen


# ---- a logout on one node ends the connections on every node -----------------------------
# --8<-- [start:logout-across-nodes]
async def test_a_logout_on_one_node_ends_the_connection_on_the_other(cluster):
    a, b = cluster.nodes
    cookie = await session_cookie(a.url)
    async with aiohttp.ClientSession() as http, \
            await Socket4.open(http, b.url, browser(cookie, b.url)) as on_b:
        assert (await on_b.welcome())["user"] == "alice"
        assert await logout(a.url, cookie) == (200, {"logged_out": True})
        # within 2 s: the Redis adapter carries disconnectSockets to B
        assert await on_b.ended_by_server(timeout=2)
    refused = await CONNECT["4.8"](b.url, browser(cookie, b.url), "websocket")
    assert refused.connect_error["data"]["code"] == "invalid_session"
# --8<-- [end:logout-across-nodes]


# ---- why HAProxy must be sticky -----------------------------------------------------------
async def test_the_io_cookie_names_the_session_for_haproxy_only(cluster):
    """4.8's ``cookie`` option: the handshake's answer says ``io=<sid>``. HAProxy keeps
    "sid -> node" from it and removes it: the client never sees it."""
    node = cluster.nodes[0]
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{node.url}/socket.io/?EIO=4&transport=polling") as direct:
            sid = json.loads((await direct.text())[1:])["sid"]
            assert direct.headers.getall("Set-Cookie") == [
                f"io={sid}; Path=/; HttpOnly; SameSite=Lax"]
        before = requests_per_node(cluster)
        async with http.get(f"{cluster.url}/socket.io/?EIO=4&transport=polling") as balanced:
            sid = json.loads((await balanced.text())[1:])["sid"]
            assert "Set-Cookie" not in balanced.headers
    [answered] = requests_per_node(cluster) - before
    assert cluster.haproxy.node_of(sid) == answered


# --8<-- [start:not-sticky]
async def test_without_stickiness_polling_reaches_a_node_that_never_made_the_session(
        cluster, tmp_path):
    cookie = await session_cookie(cluster.url)
    with (tmp_path / "round-robin.log").open("w") as log, haproxy.HAProxy(
            port=free_port(), nodes=cluster.addresses(), sticky=False, output=log) as round_robin:
        # the handshake reaches one node, the CONNECT that follows (?sid=…) the other one
        answer = await raw_handshake(round_robin.url, headers={"Cookie": cookie})
        assert (answer.status, answer.body) == (400, '{"code":1,"message":"Session ID unknown"}')
        # a WebSocket from the start is one request: it needs no stickiness
        seen = await CONNECT["4.8"](round_robin.url, {"Cookie": cookie}, "websocket")
        assert seen.welcome["user"] == "alice"
    sticky = await raw_handshake(cluster.url, headers={"Cookie": cookie})
    assert sticky.welcome["user"] == "alice"
# --8<-- [end:not-sticky]


# ---- Redis restarts -----------------------------------------------------------------------
async def subscribers(redis: RedisServer, channel: str) -> int:
    client = aioredis.from_url(redis.url)
    try:
        return dict(await client.pubsub_numsub(channel))[channel.encode()]
    finally:
        await client.aclose()


async def test_after_a_redis_restart_the_nodes_subscribe_again_and_work(cluster):
    requests = "socket.io-request#/#"  # the Redis adapter's channel for "/": one per node
    assert await subscribers(cluster.redis, requests) == 2
    await cluster.redis.restart()  # stopped, then started again on the same port
    async with asyncio.timeout(10):  # node-redis reconnects with a back-off of up to 2 s
        while await subscribers(cluster.redis, requests) != 2:
            await asyncio.sleep(0.1)
    cookie = await session_cookie(cluster.url)
    answer = await raw_handshake(cluster.url, headers=browser(cookie, cluster.url))
    assert answer.welcome["user"] == "alice"
    a, b = cluster.nodes
    async with aiohttp.ClientSession() as http, \
            await Socket4.open(http, b.url, browser(cookie, b.url)) as on_b:
        assert (await on_b.welcome())["user"] == "alice"
        assert await logout(a.url, cookie) == (200, {"logged_out": True})
        assert await on_b.ended_by_server(timeout=2)
    for node in cluster.nodes:  # each saw Redis go away, and lived on
        assert any(line.startswith("redis: ") for line in node.lines) and not node.crashed


# ---- the command line ---------------------------------------------------------------------
def test_redis_without_the_shared_secrets_refuses_to_start():
    environment = {name: value for name, value in os.environ.items() if name not in SECRETS}
    result = subprocess.run(
        [require_node(), APP, "--port", "0", "--redis", "redis://127.0.0.1:9/0"], cwd=ROOT,
        env=environment, capture_output=True, text=True, timeout=20)
    assert (result.returncode, result.stderr) == (
        2, "--redis needs SESSION_SECRET and TOKEN_SECRET\n")
