"""One server process for the benchmark: ``python -m bench.serve SERVER --port P``.

Servers: ``bare`` (python-socketio with no authorization at all: the floor), ``native``
(python-socketio's own pattern: the policy in a ``connect`` handler that raises
``ConnectionRefusedError``, ``examples/native/aiohttp_app.py`` as it is), ``legacy`` and
``middleware`` (``LegacyServer`` and ``MiddlewareServer`` doing what ``native`` does and
nothing more, ``bench/library.py``), ``legacy-app`` and ``middleware-app`` (the two demo apps,
with their web app's extra defences). Every one logs as it would in production, and alike:
INFO to stderr (bench.run sends it to a file) and the apps' redacting access line per HTTP
request.

Every server but ``bare`` gets the same policy: the same settings, and the same token secret
(``TOKEN_SECRET``). It runs without the password throttle (the lag row's logins all come from
one address) and with the cap on open sessions per address raised to 1,000,000 (the demo apps
still count it; the others have no cap): every benchmark client comes from 127.0.0.1, and the
memory figures keep hundreds of sockets open. The hashing gate admits the lag row's 50 logins
at once, instead of 2 per address: that row measures the hashing pool's effect on the event
loop; the gate's refusals are tested in tests/test_throttle.py.

``GET /bench/stats`` reports the process's CPU time (``time.process_time``, to the
nanosecond, where /proc counts in 10 ms ticks) and its open Engine.IO sessions; with
``?gc=1``, after a full garbage collection, its resident memory, its Python object count and
the bytes Python has allocated since ``?trace=1`` started tracemalloc (which slows the
process: the CPU rounds are over by then). ``GET /bench/lag`` reports the largest
event-loop lag seen since the last call, measured by a 5 ms ticker.
"""

import argparse
import asyncio
import gc
import importlib
import logging
import time
import tracemalloc

import engineio
import psutil
import socketio
from aiohttp import web

import shared.webapp.app
from bench import library
from examples.native import aiohttp_app as native
from shared.policy import Policy
from shared.policy.throttle import HashingGate
from shared.policy.tokens import TokenIssuer, secret_from_environment
from shared.webapp.access_log import RedactingAccessLogger

LOGINS = 50  # bench.run's event-loop lag row: concurrent password logins


ENGINEIO = web.AppKey("engineio", engineio.AsyncServer)  # whose open sessions stats counts


def bench_policy() -> Policy:
    """The one policy every server but ``bare`` decides with: see above."""
    return Policy(TokenIssuer(secret_from_environment()),  # no throttle
                  hashing=HashingGate(in_flight=LOGINS, per_address=LOGINS, per_account=LOGINS),
                  max_sessions_per_address=1_000_000)  # one address for every client


def bare_app() -> web.Application:
    """The floor: the same packets (CONNECT, then a welcome event), no decision."""
    sio = socketio.AsyncServer(async_mode="aiohttp")

    async def connect(sid, environ, auth=None):
        sio.start_background_task(sio.emit, "welcome", {"user": None}, to=sid)

    sio.on("connect", connect)
    app = web.Application()
    app[ENGINEIO] = sio.eio
    sio.attach(app)
    return app


def native_app() -> web.Application:
    """The example's own factory, unchanged. It keeps its server to itself: python-engineio's
    is the one whose ``handle_request`` ``sio.attach`` routed ``/socket.io/`` to."""
    app = native.create_app(bench_policy())
    app[ENGINEIO] = next(route.handler.__self__ for route in app.router.routes()
                         if isinstance(getattr(route.handler, "__self__", None),
                                       engineio.AsyncServer))
    return app


def library_app(make) -> web.Application:
    """``bench/library.py``'s ``legacy_app`` or ``middleware_app``."""
    app, io = make(bench_policy())
    app[ENGINEIO] = io.sio.eio
    return app


def demo_app(module: str) -> web.Application:
    """One of the two demo apps, as ``python -m`` serves it but for the policy."""
    app = importlib.import_module(module).create_app(policy=bench_policy())
    app[ENGINEIO] = app[shared.webapp.app.ENGINE].sio.eio
    return app


SERVERS = {"bare": bare_app, "native": native_app,
           "legacy": lambda: library_app(library.legacy_app),
           "middleware": lambda: library_app(library.middleware_app),
           "legacy-app": lambda: demo_app("legacy_authorization.app"),
           "middleware-app": lambda: demo_app("middleware_auth.app")}


class LagProbe:
    """Started by the first ``GET /bench/lag`` (the login rows' servers): a ticker every 5 ms
    in every server would wake the measured one's core 200 times a second per server."""

    def __init__(self, interval: float = 0.005):
        self.interval = interval
        self.worst = 0.0
        self.task: asyncio.Task | None = None

    async def run(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(self.interval)
            self.worst = max(self.worst, time.perf_counter() - started - self.interval)

    async def report(self, request: web.Request) -> web.Response:
        if self.task is None:
            self.task = asyncio.create_task(self.run())
        worst, self.worst = self.worst, 0.0
        return web.json_response({"max_lag_ms": worst * 1000})


async def stats(request: web.Request) -> web.Response:
    report = {"cpu_seconds": time.process_time(),
              "sessions": len(request.app[ENGINEIO].sockets)}
    if request.query.get("trace") and not tracemalloc.is_tracing():
        tracemalloc.start()
    if request.query.get("gc"):
        gc.collect()
        report.update(rss=psutil.Process().memory_info().rss, objects=len(gc.get_objects()),
                      traced=tracemalloc.get_traced_memory()[0])
    return web.json_response(report)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("server", choices=SERVERS)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = SERVERS[args.server]()
    probe = LagProbe()
    app.router.add_get("/bench/lag", probe.report)
    app.router.add_get("/bench/stats", stats)
    # every server logs each request the way the apps' python -m does: no credential in it
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, shutdown_timeout=1,
                access_log_class=RedactingAccessLogger)


if __name__ == "__main__":
    main()
