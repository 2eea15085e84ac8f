"""One server process for the benchmark: ``python -m bench.serve SERVER --port P``.

Servers: ``bare`` (python-socketio with no authorization at all: the floor), ``legacy`` and
``middleware`` (the two apps). Every one logs as it would in production: INFO to stderr
(bench.run sends it to a file) and an access line per HTTP request, aiohttp's own for ``bare``
and the apps' redacting one for the others, so that logging is in the floor too.

The apps run without the password throttle (the lag row's logins all come from one address)
and with the cap on open sessions per address raised to 1,000,000 (it still counts): every
benchmark client comes from 127.0.0.1, and the memory figures keep hundreds of sockets open.
The hashing gate admits the lag row's 50 logins at once, instead of 2 per address: that row
measures the hashing pool's effect on the event loop; the gate's refusals are tested in
tests/test_hardening.py.

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

import psutil
import socketio
from aiohttp import web

import shared.webapp.app
from shared.policy import Policy
from shared.policy.throttle import HashingGate
from shared.policy.tokens import TokenIssuer, secret_from_environment
from shared.webapp.access_log import RedactingAccessLogger

APPS = {"legacy": "legacy_authorization.app", "middleware": "middleware_auth.app"}
LOGINS = 50  # bench.run's event-loop lag row: concurrent password logins


SIO = web.AppKey("sio", socketio.AsyncServer)


def bare_app() -> web.Application:
    """The floor: the same packets (CONNECT, then a welcome event), no decision."""
    sio = socketio.AsyncServer(async_mode="aiohttp")

    async def connect(sid, environ, auth=None):
        sio.start_background_task(sio.emit, "welcome", {"user": None}, to=sid)

    sio.on("connect", connect)
    app = web.Application()
    app[SIO] = sio
    sio.attach(app)
    return app


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
              "sessions": len(request.app[SIO].eio.sockets)}
    if request.query.get("trace") and not tracemalloc.is_tracing():
        tracemalloc.start()
    if request.query.get("gc"):
        gc.collect()
        report.update(rss=psutil.Process().memory_info().rss, objects=len(gc.get_objects()),
                      traced=tracemalloc.get_traced_memory()[0])
    return web.json_response(report)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("server", choices=["bare", *APPS])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.server == "bare":
        app, access_log = bare_app(), {}  # aiohttp's own access log
    else:
        policy = Policy(TokenIssuer(secret_from_environment()),  # no throttle: see above
                        hashing=HashingGate(in_flight=LOGINS, per_address=LOGINS,
                                            per_account=LOGINS),
                        max_sessions_per_address=1_000_000)  # one address for every client
        app = importlib.import_module(APPS[args.server]).create_app(policy=policy)
        app[SIO] = app[shared.webapp.app.ENGINE].sio
        access_log = {"access_log_class": RedactingAccessLogger}  # as python -m serves it
    probe = LagProbe()
    app.router.add_get("/bench/lag", probe.report)
    app.router.add_get("/bench/stats", stats)

    web.run_app(app, host="127.0.0.1", port=args.port, print=None, shutdown_timeout=1,
                **access_log)


if __name__ == "__main__":
    main()
