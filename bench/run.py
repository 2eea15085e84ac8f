"""``make bench``: what the library costs the server over python-socketio's own pattern doing
the same checks, what the demo apps' extra defences add, and what authorization costs over
bare python-socketio, measured side by side.

Every server runs in its own process, all of them on core 0; the client (bench.client, the
same raw Engine.IO client for every server) runs here, on core 1, so that a server's CPU time
is its own. The servers are measured in interleaved rounds: every round runs every scenario on
every server, in a shuffled order, so that a slow moment of the machine hits all of them alike;
the headline is the library's CPU per handshake (``LegacyServer``, ``MiddlewareServer``)
divided by the native pattern's of the same round, the median over the rounds. Writes
bench/results/latest.json; bench.report renders it.

``python -m bench.run --quick`` takes about six minutes; the full run about fifteen.
"""

import argparse
import asyncio
import json
import os
import platform
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from bench.client import ACCEPTED, REFUSED, polling_handshake, upgraded_handshake
from bench.profile import profile
from bench.report import chart, render
from bench.scenarios import APPS, NODE, PROFILED, SCENARIOS, SERVERS, TARGETS
from shared.policy.tokens import TokenIssuer

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
CHART = ROOT / "docs" / "assets" / "performance.png"
NODE_DIR = ROOT / "bench" / "node"
CONCURRENCY = 10  # clients handshaking back to back
# the profiled load, in measures' worth of handshakes: enough samples that a part of the code
# taking 1% of a handshake gets about twenty (py-spy samples 1,000 times a second)
PROFILED_MEASURES = 10


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pin(core: int) -> bool:
    """Run on one core only, when there is more than one (Linux): whether it could."""
    if hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) > 1:
        os.sched_setaffinity(0, {core})
        return True
    return False


class Server:
    """A server process on a loopback port, pinned to core 0, logging to ``log``."""

    def __init__(self, kind: str, env: dict, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.kind = kind
        command = (["node", "--expose-gc", str(NODE_DIR / "server.js"), str(self.port)]
                   if kind == NODE else
                   [sys.executable, "-m", "bench.serve", kind, "--port", str(self.port)])
        self.log = log.open("ab")
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                        stderr=self.log, preexec_fn=lambda: pin(0))

    async def ready(self) -> None:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(self.url + "/bench/stats"):
                        return
                except aiohttp.ClientError:
                    await asyncio.sleep(0.05)
        raise RuntimeError(f"{self.kind} did not start: see {self.log.name}")

    async def stats(self, collect: bool = False, trace: bool = False) -> dict:
        """``cpu_seconds`` and ``sessions``; with ``collect``, after a full garbage
        collection, ``traced`` (Python) or ``heap`` (Node.js) bytes, ``rss``, ``objects``.
        ``trace`` starts tracing Python's allocations."""
        query = "&".join(name for name, wanted in (("gc=1", collect), ("trace=1", trace))
                         if wanted)
        async with (aiohttp.ClientSession() as http,
                    http.get(f"{self.url}/bench/stats?{query}") as answer):
            return await answer.json()

    async def sessions_closed(self, timeout: float = 90) -> None:
        """Wait until the server holds no session: python-engineio removes a closed one on
        its next sweep, which visits every session once per ping timeout (20 s)."""
        deadline = time.monotonic() + timeout
        while (await self.stats())["sessions"]:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.kind} still holds sessions after {timeout} s")
            await asyncio.sleep(0.5)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        self.log.close()


def progress(text: str) -> None:
    print(f"\r\033[K  {text}", end="", flush=True)


class Clients:
    """What the clients present: a fresh token each (signed with the servers' secret), or a
    forged one (well formed, signed with another key: the refusal runs the whole signature
    check)."""

    def __init__(self, secret: str):
        self.issuer = TokenIssuer(secret.encode(), ttl_seconds=3600)
        self.forged = TokenIssuer(secrets.token_bytes(32)).issue("alice", "user")

    def query(self, presents: str) -> str:
        if presents == "bad token":
            return f"token={self.forged}"
        return f"token={self.issuer.issue('alice', 'user')}"


async def measured(server: Server, count: int, one, concurrency: int = CONCURRENCY):
    """Run ``one()`` ``count`` times, by ``concurrency`` clients back to back: the server's
    CPU seconds and the wall seconds it took.

    A full garbage collection comes first, outside the measure: one costs tens of ms and
    comes about every 1,500 handshakes, so it would land in a random round of a server."""

    async def client():
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await one()

    remaining = count
    if server.kind != NODE:  # V8 runs its own way: a forced collection slows it after
        await server.stats(collect=True)
    before = (await server.stats())["cpu_seconds"]
    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return (await server.stats())["cpu_seconds"] - before, elapsed


def client_session(concurrency: int = CONCURRENCY) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency + 5))


async def handshakes(server: Server, transport: str, presents: str, clients: Clients,
                     count: int, concurrency: int = CONCURRENCY) -> dict:
    """``count`` handshakes by ``concurrency`` clients back to back: the server's CPU per
    handshake, the rate and the latencies. Raises if any verdict is wrong."""
    expect = REFUSED if presents == "bad token" else ACCEPTED
    connect = upgraded_handshake if transport == "websocket" else polling_handshake
    latencies: list[float] = []
    async with client_session(concurrency) as http:

        async def one():
            query = clients.query(presents)
            started = time.perf_counter()
            answer = await connect(http, server.url, query)
            latencies.append(time.perf_counter() - started)
            if answer != expect:
                raise AssertionError(f"{server.kind}: wrong verdict, {answer}")

        cpu, elapsed = await measured(server, count, one, concurrency)
    return {"cpu_ms": cpu / count * 1000, "per_second": count / elapsed,
            "p50_ms": statistics.median(latencies) * 1000}


async def requests(server: Server, count: int, concurrency: int = CONCURRENCY) -> float:
    """A Python server's CPU (ms) per HTTP request that does nothing: a ``GET`` of a path no
    route answers, so aiohttp answers 404, logged like any other request. What any request
    costs before authorization does anything: a 0.9 refusal is one such request plus its
    work. (Node.js answers every path, and logs nothing: it has no such row.)"""
    async with client_session(concurrency) as http:

        async def one():
            async with http.get(server.url + "/nothing-here") as answer:
                if answer.status != 404:
                    raise AssertionError(f"{server.kind}: {answer.status} for a 404")
                await answer.read()

        cpu, _ = await measured(server, count, one, concurrency)
    return cpu / count * 1000


# A server's handshakes of one round and scenario come in this many parts, taken in turn with
# the other servers': work a server does in the background (python-engineio sweeps closed
# sessions, and wakes each one's ping task 25 s after it opened) is counted only while that
# server is measured, and smaller, interleaved parts sample it more evenly.
PARTS = 4


def combined(parts: list[dict]) -> dict:
    """One measure from equal parts: the mean CPU, the overall rate, the median latency."""
    return {"cpu_ms": statistics.fmean(part["cpu_ms"] for part in parts),
            "per_second": len(parts) / sum(1 / part["per_second"] for part in parts),
            "p50_ms": statistics.median(part["p50_ms"] for part in parts)}


async def settle(servers: dict) -> None:
    """Until every server has let go of the sessions that closed: python-engineio removes a
    closed session on its next sweep (within its ping timeout, 20 s), and the session's ping
    task holds it until its ping interval (25 s) has passed."""
    progress("waiting for the servers to let the closed sessions go")
    started = time.monotonic()
    await asyncio.gather(*(server.sessions_closed() for server in servers.values()))
    await asyncio.sleep(max(0.0, started + PING_INTERVAL + 5 - time.monotonic()))


PING_INTERVAL = 25  # python-engineio's and Socket.IO 4's default, seconds


async def memory(servers: dict, clients: Clients, batches: int, size: int, kept: int) -> dict:
    """Per server: its resident memory and Python objects after each of ``batches`` batches
    of ``size`` handshakes that came and went, once the server has let them go; then the
    bytes each of ``kept`` open sockets holds.

    The first batch fills what fills once (a dict keeps the room its largest size needed, a
    pool its largest count); the batches after it show whether memory settles. Every figure
    is taken after a full garbage collection. Python's bytes per socket are those tracemalloc
    counts, started only after the last batch (its own bookkeeping would swell the resident
    figure); Node.js reports its V8 heap."""
    report: dict = {kind: {"after_batch": []} for kind in servers}
    for batch in range(batches):
        for kind, server in servers.items():
            progress(f"{kind}: batch {batch + 1}/{batches} of {size} handshakes that close")
            await handshakes(server, "websocket", "own token", clients, size)
        await settle(servers)
        for kind, server in servers.items():
            stats = await server.stats(collect=True)
            report[kind]["after_batch"].append({key: stats[key] for key in ("rss", "objects")
                                                if key in stats})
    for kind, server in servers.items():
        progress(f"{kind}: {kept} sockets kept open")
        await server.stats(trace=True)
        before = await server.stats(collect=True)
        connector = aiohttp.TCPConnector(limit=50)
        async with aiohttp.ClientSession(connector=connector) as http:
            answers = await asyncio.gather(*(
                polling_handshake(http, server.url, clients.query("own token"), close=False)
                for _ in range(kept)))
            if set(answers) != {ACCEPTED}:
                raise AssertionError(f"{kind}: a kept socket was not accepted")
            after = await server.stats(collect=True)
        key = "heap" if kind == NODE else "traced"
        report[kind]["per_open_socket"] = {key: (after[key] - before[key]) / kept}
    return report


async def login_lag(server: Server, logins: int) -> float:
    """The worst event-loop lag while ``logins`` password logins run at once."""
    progress(f"{server.kind}: event-loop lag, {logins} concurrent password logins")
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + "/bench/lag"):  # reset the probe
            pass
        credentials = {"username": "alice", "password": "wonderland"}

        async def login():
            async with http.post(server.url + "/login", json=credentials) as response:
                assert response.status == 200

        await asyncio.gather(*(login() for _ in range(logins)))
        async with http.get(server.url + "/bench/lag") as response:
            return (await response.json())["max_lag_ms"]


def node_reference_ready() -> bool:
    if not shutil.which("node") or not shutil.which("npm"):
        return False
    if not (NODE_DIR / "node_modules" / "socket.io").is_dir():
        progress("installing socket.io 4.8 for the Node.js reference (npm ci)")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True,
                       stdout=subprocess.DEVNULL)
    return True


async def run(rounds: int, count: int, sockets: int, batches: int, logs: Path) -> dict:
    secret = secrets.token_hex(32)
    env = {**os.environ, "TOKEN_SECRET": secret}
    clients = Clients(secret)
    kinds = [*SERVERS, *([NODE] if node_reference_ready() else [])]
    report = {"date": datetime.now(UTC).isoformat(timespec="seconds"),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                         f"Python {platform.python_version()}",
              "rounds": rounds, "handshakes_per_measure": count, "concurrency": CONCURRENCY,
              "targets": TARGETS, "measures": {kind: {name: [] for name in SCENARIOS}
                                               for kind in kinds},
              "login_lag_ms": {}, "profile": {}, "profiled": PROFILED,
              "request_cpu_ms": {kind: [] for kind in SERVERS}}
    servers = {kind: Server(kind, env, logs / f"{kind}.log") for kind in kinds}
    try:
        for server in servers.values():
            await server.ready()
        for server in servers.values():  # warm up: imports, caches, first allocations
            await handshakes(server, "websocket", "own token", clients, count // 2)
        for round_ in range(rounds):
            for name, (transport, presents) in SCENARIOS.items():
                shuffled = random.Random(f"{round_} {name}").sample(kinds, len(kinds))
                order = [kind for kind in shuffled
                         if not (kind == "bare" and presents == "bad token")]
                parts: dict[str, list[dict]] = {kind: [] for kind in order}
                for part in range(PARTS):
                    for kind in order:
                        progress(f"round {round_ + 1}/{rounds}: {name}, {kind}, "
                                 f"part {part + 1}/{PARTS}")
                        parts[kind].append(await handshakes(
                            servers[kind], transport, presents, clients, count // PARTS))
                for kind in order:
                    report["measures"][kind][name].append(combined(parts[kind]))
            for kind in random.Random(f"{round_} requests").sample(SERVERS, len(SERVERS)):
                progress(f"round {round_ + 1}/{rounds}: a request that does nothing, {kind}")
                report["request_cpu_ms"][kind].append(await requests(servers[kind], count))
        for kind in SERVERS:  # before tracemalloc starts: it would be in the profile
            progress(f"{kind}: profiled while it answers {PROFILED}")
            server = servers[kind]
            report["profile"][kind] = await profile(server, lambda server=server: handshakes(
                server, *SCENARIOS[PROFILED], clients, PROFILED_MEASURES * count))
        report["memory_batch"], report["sockets_kept"] = 3 * count, sockets
        report["memory"] = await memory(servers, clients, batches, size=3 * count,
                                        kept=sockets)
    finally:
        for server in servers.values():
            server.stop()
    for kind in APPS:  # on a fresh server: the logins' lag, nothing else's
        server = Server(kind, env, logs / f"{kind}-logins.log")
        try:
            await server.ready()
            report["login_lag_ms"][kind] = [await login_lag(server, 50) for _ in range(3)]
        finally:
            server.stop()
    progress("done\n")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few minutes: fewer rounds")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 15; quick: 5)")
    args = parser.parse_args()
    pinned = pin(1)
    rounds, count, sockets, batches = (5, 300, 200, 3) if args.quick else (15, 400, 500, 4)
    rounds = args.rounds or rounds
    with tempfile.TemporaryDirectory(prefix="bench-logs-") as logs:
        report = asyncio.run(run(rounds, count, sockets, batches, Path(logs)))
    report["quick"], report["pinned"] = args.quick, pinned
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    chart(report, CHART)
    print(render(report))
    print(f"wrote {RESULTS / 'latest.json'} and {CHART}; the docs build renders the page")


if __name__ == "__main__":
    main()
