"""Two nodes of each server behind HAProxy, sharing one Redis, all real processes, checked
from outside: what clients see when a node dies or Redis restarts, and that only HAProxy
reaches the nodes (each on a Unix socket in a folder only this user can open)."""

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import aiohttp
import psutil
import pytest
import socketio
from redis import asyncio as aioredis

from cluster import haproxy
from tests.client import from_address, python_client, until
from tests.raw_client import RawAnswer, raw_handshake

ROOT = Path(__file__).resolve().parents[1]
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
SECRET = "cluster-test-secret-shared-by-both-nodes-0123456789"
ALICE, BOB = ("alice", "wonderland"), ("bob", "builder")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A real redis-server on a loopback port, that a test may stop and start again. It keeps
    its data in an append-only file, as a deployment must: revocations survive a restart."""

    def __init__(self, folder: Path):
        if not os.access(REDIS_SERVER, os.X_OK):  # a failure, never a skip: `make redis`
            pytest.fail("no redis-server: run `make redis` (apt-get install redis-server)")
        self.folder, self.port = folder, free_port()
        folder.mkdir(parents=True, exist_ok=True)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    async def start(self) -> None:
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir",
             str(self.folder), "--save", "", "--appendonly", "yes", "--appendfsync", "always"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = aioredis.from_url(self.url)
        try:
            async with asyncio.timeout(5):
                while self.process.poll() is None:
                    with suppress(aioredis.ConnectionError):
                        if await client.ping():
                            return
                    await asyncio.sleep(0.02)
            pytest.fail(f"redis-server exited with {self.process.returncode}")
        finally:
            await client.aclose()

    def stop(self) -> None:
        """SIGTERM, as a restart by the init system sends it (Redis writes its file first)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    async def restart(self) -> None:
        self.stop()
        await self.start()


class Node:
    """``python -m legacy_authorization`` (or ``middleware_auth``) with ``options``: on the Unix
    socket ``unix``, as a cluster runs it, or else on a loopback TCP port. ``http()`` opens a
    client session that reaches it (over the Unix socket, the test reaches it as HAProxy does:
    that is what being trusted as its proxy means)."""

    def __init__(self, impl, log: Path, options: Sequence[str] = (), unix: Path | None = None):
        self.unix = unix
        if unix is None:
            port = free_port()
            listen = ["--port", str(port)]
            self.address = f"127.0.0.1:{port}"
            self.url = f"http://{self.address}"
        else:
            listen = ["--unix", str(unix)]
            self.address = f"unix@{unix}"  # as HAProxy names it
            self.url = "http://127.0.0.1"  # the Host a request names; it travels over the socket
        self.log = log
        self._log = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", impl.package, *listen, *options],
            cwd=ROOT, env={**os.environ, "TOKEN_SECRET": SECRET}, stdin=subprocess.DEVNULL,
            stdout=self._log, stderr=subprocess.STDOUT)

    def http(self, **options) -> aiohttp.ClientSession:
        connector = aiohttp.UnixConnector(path=str(self.unix)) if self.unix else None
        return aiohttp.ClientSession(connector=connector, **options)

    async def ready(self, timeout: float = 15.0) -> None:
        async with asyncio.timeout(timeout), self.http() as http:
            while True:
                if self.process.poll() is not None:
                    pytest.fail(f"node {self.address} exited with {self.process.returncode}")
                with suppress(aiohttp.ClientError):
                    async with http.get(self.url + "/") as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.05)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


class Cluster:
    def __init__(self, redis: RedisServer, nodes: list[Node], balancer: haproxy.HAProxy):
        self.redis, self.nodes, self.haproxy = redis, nodes, balancer
        self.url = balancer.url

    def http(self, **options) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(**options)


@asynccontextmanager
async def running_cluster(impl, folder: Path, allow_origins: Sequence[str] = (),
                          tls: bool = False, node_options: Sequence[str] = (),
                          shared_redis: RedisServer | None = None):
    """Redis, two nodes of ``impl`` (each with ``node_options`` too) and HAProxy in front of
    them (with ``tls``, also on an https port); all stopped on leaving. Each node listens on a
    Unix socket, in a folder only this user can open, and trusts the X-Forwarded-For and -Proto
    of that socket's peer. ``shared_redis``: a Redis of the caller's, left running, which
    another cluster of the same site uses too (one session store: one cookie per host)."""
    if haproxy.executable() is None:  # a failure, never a skip: `make haproxy` installs it
        pytest.fail("no haproxy: run `make haproxy` (apt-get install haproxy)")
    if tls and shutil.which("openssl") is None:
        pytest.fail("no openssl: run `make haproxy` (apt-get install openssl)")
    folder.mkdir(parents=True, exist_ok=True)
    redis = shared_redis or RedisServer(folder)
    if shared_redis is None:
        await redis.start()
    sockets = Path(tempfile.mkdtemp(prefix="nodes-"))  # mode 700; a short path (108 bytes max)
    options = ["--redis", redis.url, "--trust-proxy", "unix",
               *(arg for origin in allow_origins for arg in ("--allow-origin", origin)),
               *node_options]
    nodes: list[Node] = []
    balancer = None
    try:
        nodes = [Node(impl, folder / f"node{n}.log", options, unix=sockets / f"node{n}.sock")
                 for n in (1, 2)]
        await asyncio.gather(*(node.ready() for node in nodes))
        balancer = haproxy.HAProxy(port=free_port(), nodes=[node.address for node in nodes],
                                   output=(folder / "haproxy.log").open("w"),
                                   tls_port=free_port() if tls else None)
        balancer.start()
        yield Cluster(redis, nodes, balancer)
    finally:
        if balancer is not None:
            balancer.stop()
            balancer.output.close()
        for node in nodes:
            node.stop()
        if shared_redis is None:
            redis.stop()
        shutil.rmtree(sockets, ignore_errors=True)


@pytest.fixture
async def cluster(impl, tmp_path):
    """Redis, two nodes of the implementation under test, and HAProxy in front of them."""
    async with running_cluster(impl, tmp_path) as running:
        yield running


# ``target``: the cluster (its HAProxy) or one node, each with ``url`` and ``http()``
async def login(target, user: tuple[str, str] = ALICE) -> str:
    async with target.http() as http, http.post(
            target.url + "/login", json={"username": user[0], "password": user[1]}) as response:
        assert response.status == 200, await response.text()
        return (await response.json())["token"]


async def logout(target, token: str) -> tuple[int, dict, list[str]]:
    """What a browser sends: the token cookie. The status, the body and the cookies set."""
    async with target.http() as http, http.post(
            target.url + "/logout", headers={"Cookie": f"token={token}"}) as response:
        body = await response.text()
        return (response.status,
                json.loads(body) if response.content_type == "application/json" else {"text": body},
                response.headers.getall("Set-Cookie", []))


async def logout_until_done(target, token: str, timeout: float = 5.0) -> list[int]:
    """Log out again while the answer is 503 (as a client told so does); every status seen."""
    seen = []
    async with asyncio.timeout(timeout):
        while not seen or seen[-1] == 503:
            seen.append((await logout(target, token))[0])
            await asyncio.sleep(0.1)
    return seen


async def handshake_through(target, **options) -> RawAnswer:
    """``raw_handshake`` with ``target``'s own way in (a node's Unix socket)."""
    async with target.http(timeout=aiohttp.ClientTimeout(total=5)) as http:
        return await raw_handshake(target.url, http=http, **options)


@asynccontextmanager
async def connected(url: str, token: str, *events: str):
    """A python-socketio client connected with ``token``; yields it and the ``events`` it
    receives, by name."""
    async with python_client() as client:
        received: dict[str, list] = {event: [] for event in events}
        for event in events:
            client.on(event, received[event].append)
        await client.connect(f"{url}?token={token}", wait_timeout=3)
        yield client, received


async def refused_everywhere(cluster: Cluster, token: str) -> bool:
    answers = [await handshake_through(node, query=f"token={token}") for node in cluster.nodes]
    return not any(answer.connected for answer in answers)


# ---- state shared through Redis ---------------------------------------------------------------
async def test_a_token_from_one_node_is_accepted_by_the_other(cluster):
    a, b = cluster.nodes
    token = await login(a)
    answer = await handshake_through(b, query=f"token={token}")
    assert answer.connected and answer.welcome["user"] == "alice"


async def test_password_attempts_on_one_node_count_on_the_other(cluster):
    a, b = cluster.nodes
    async with a.http() as http:
        for _ in range(10):  # the per-account allowance: 10 password attempts a minute
            async with http.post(a.url + "/login",
                                 json={"username": "alice", "password": "guess"}) as response:
                assert response.status == 401
    async with b.http() as http, http.post(
            b.url + "/login", json={"username": "alice", "password": "wonderland"}) as response:
        assert response.status == 429
        assert await response.json() == {"error": "throttled"}


async def test_an_emit_to_a_user_reaches_them_on_any_node_also_after_a_redis_restart(cluster):
    """python-socketio's ``AsyncRedisManager``: an emit from any process reaches the node that
    holds the socket, and its listener subscribes again after Redis restarts."""
    token = await login(cluster)
    emitter = socketio.AsyncRedisManager(cluster.redis.url, write_only=True)

    async def emit_until_received(notice: dict, received: list) -> None:
        async with asyncio.timeout(10):  # pub/sub keeps nothing for a node not yet listening
            while notice not in received:
                await emitter.emit("notice", notice, room="user:alice")
                await asyncio.sleep(0.25)

    try:
        async with connected(cluster.url, token, "notice") as (_, received):
            await emit_until_received({"text": "before"}, received["notice"])
            await cluster.redis.restart()
            await emit_until_received({"text": "after"}, received["notice"])
    finally:
        if emitter.redis is not None:
            await emitter.redis.aclose()


# ---- HAProxy ------------------------------------------------------------------------------
async def test_haproxy_keeps_each_session_on_its_node_and_spreads_new_ones(cluster):
    token = await login(cluster)
    nodes_used = []
    for _ in range(4):  # polling first, then the upgrade: every request must reach one node
        async with connected(cluster.url, token) as (client, _):
            await until(lambda client=client: client.transport() == "websocket")
            handshake = await client.call("handshake", timeout=3)
            assert "io=" not in handshake["headers"].get("cookie", "")
            nodes_used.append(cluster.haproxy.node_of(client.eio.sid))
    for _ in range(4):  # long-polling only: a handshake, then posts and polls with ?sid=
        assert (await handshake_through(cluster, query=f"token={token}")).connected
    assert sorted(nodes_used) == sorted([node.address for node in cluster.nodes] * 2)


async def test_the_session_cookie_is_for_haproxy_only(cluster):
    token = await login(cluster)
    node = cluster.nodes[0]
    async with node.http() as http, http.get(
            f"{node.url}/socket.io/?EIO=4&transport=polling&token={token}") as direct:
        assert direct.status == 200 and "io=" in direct.headers.get("Set-Cookie", "")
    async with aiohttp.ClientSession() as http, http.get(
            f"{cluster.url}/socket.io/?EIO=4&transport=polling&token={token}") as balanced:
        assert balanced.status == 200 and "Set-Cookie" not in balanced.headers


async def test_a_dead_node_stops_receiving_handshakes(cluster):
    token = await login(cluster)
    dead, alive = cluster.nodes
    dead.kill()
    for _ in range(4):  # at once: a connection refused is retried on the other node
        assert (await handshake_through(cluster, query=f"token={token}")).connected
    async with asyncio.timeout(5):  # the health check marks it down
        while not cluster.haproxy.servers()[dead.address]["status"].startswith("DOWN"):
            await asyncio.sleep(0.1)
    sent_to_dead = cluster.haproxy.servers()[dead.address]["stot"]
    for _ in range(4):
        assert (await handshake_through(cluster, query=f"token={token}")).connected
    servers = cluster.haproxy.servers()
    assert servers[dead.address]["stot"] == sent_to_dead  # not even tried
    assert servers[alive.address]["status"] == "UP"


# ---- only HAProxy reaches the nodes -------------------------------------------------------
ALLOWANCE = 30  # the throttle's default: wrong passwords per address a minute


async def guesses(http: aiohttp.ClientSession, url: str, count: int, start: int = 0) -> list[int]:
    """The review's attack: ``count`` wrong passwords, each for another account (none runs out)
    and each claiming another address in X-Forwarded-For. The statuses, in order."""
    statuses = []
    for n in range(start, start + count):
        async with http.post(url + "/login", json={"username": f"guess{n}", "password": "guess"},
                             headers={"X-Forwarded-For": f"198.51.100.{n}"}) as response:
            statuses.append(response.status)
    return statuses


async def test_a_node_has_no_tcp_port_only_a_unix_socket_only_this_user_opens(cluster):
    for node in cluster.nodes:
        process = psutil.Process(node.process.pid)
        assert [c for c in process.net_connections("inet") if c.status == psutil.CONN_LISTEN] == []
        assert [c.laddr for c in process.net_connections("unix") if c.laddr] == [str(node.unix)]
        assert node.unix.parent.stat().st_mode & 0o777 == 0o700


async def test_a_forged_x_forwarded_for_counts_for_nothing_through_haproxy(cluster):
    async with from_address("127.0.0.1") as http:
        assert await guesses(http, cluster.url, ALLOWANCE + 1) == [401] * ALLOWANCE + [429]
    async with from_address("127.0.0.2") as http:  # another client: HAProxy's word is believed
        assert await guesses(http, cluster.url, 1, start=100) == [401]


async def test_a_node_believes_the_x_forwarded_for_of_its_unix_socket_peer(cluster):
    """What HAProxy writes there names the client: each address counts apart."""
    node = cluster.nodes[0]
    async with node.http() as http:
        assert await guesses(http, node.url, ALLOWANCE + 1) == [401] * (ALLOWANCE + 1)


# ---- Redis faults -------------------------------------------------------------------------
async def test_a_logout_while_redis_is_down_fails_closed_and_says_so(cluster):
    token = await login(cluster)
    async with connected(cluster.url, token, "session_ended") as (client, received):
        cluster.redis.stop()
        status, body, cookies = await logout(cluster, token)
        assert (status, body) == (503, {"error": "revocation_unavailable"})
        assert cookies == []  # the browser keeps the token it still has to log out
        async with aiohttp.ClientSession() as http, http.post(
                cluster.url + "/login", json={"username": "bob", "password": "builder"}) as answer:
            assert (answer.status, await answer.json()) == (503, {"error": "unavailable"})
        await asyncio.sleep(0.3)
        assert client.connected and not received["session_ended"]  # nothing was revoked

        await cluster.redis.start()
        assert 500 not in await logout_until_done(cluster, token)
        await until(lambda: received["session_ended"] and not client.connected, timeout=5)
    assert received["session_ended"] == [{"reason": "revoked_token", "message": "Token revoked"}]
    assert await refused_everywhere(cluster, token)


async def test_after_a_redis_restart_a_logout_ends_the_sockets_on_every_node(cluster):
    """Each node's revocation listener subscribes again, and no revocation is lost: neither
    one made before the restart nor one made as Redis comes back."""
    bob = await login(cluster, BOB)
    assert (await logout(cluster, bob))[0] == 200
    alice = await login(cluster, ALICE)
    async with connected(cluster.url, alice, "session_ended") as (one, one_got), \
            connected(cluster.url, alice, "session_ended") as (two, two_got):
        assert {cluster.haproxy.node_of(one.eio.sid), cluster.haproxy.node_of(two.eio.sid)} == {
            node.address for node in cluster.nodes}
        await cluster.redis.restart()
        assert 500 not in await logout_until_done(cluster, alice)
        await until(lambda: one_got["session_ended"] and two_got["session_ended"], timeout=5)
        await until(lambda: not one.connected and not two.connected)
    assert await refused_everywhere(cluster, alice)
    assert await refused_everywhere(cluster, bob)


async def test_no_request_answers_500_after_a_redis_restart(cluster):
    """Every node's pooled connections die with Redis: the first request after the restart
    that uses one must still succeed, on each node."""
    for node, user in zip(cluster.nodes, (ALICE, BOB), strict=True):
        for _ in range(2):  # several pooled connections on each node
            await login(node, user)
    await cluster.redis.restart()
    for node, user in zip(cluster.nodes, (ALICE, BOB), strict=True):
        token = await login(node, user)
        assert (await handshake_through(node, query=f"token={token}")).connected
        assert (await logout(node, token))[0] == 200


# ---- the command line ---------------------------------------------------------------------
def test_redis_without_token_secret_refuses_to_start(impl):
    environment = {name: value for name, value in os.environ.items() if name != "TOKEN_SECRET"}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", impl.package, "--port", str(free_port()), "--redis",
         "redis://127.0.0.1:9/0"], cwd=ROOT, env=environment, capture_output=True, text=True,
        timeout=20)
    assert result.returncode == 2 and time.monotonic() - started < 20
    assert "--redis needs TOKEN_SECRET" in result.stderr
