"""One server process for the benchmark: ``python -m bench.serve SCENARIO --port P``.

Scenarios: ``bare`` (python-socketio with no authorization at all: the floor), ``legacy`` and
``middleware`` (the two apps, as ``python -m`` serves them but without the throttle, which
would otherwise refuse the refusal scenarios' address, and without the cap on open sessions per
address: every benchmark client comes from 127.0.0.1, up to 200 at once, and the memory column
keeps 500 sockets open. The hashing gate admits the lag row's 50 logins at once, instead of 2
per address: the row measures the hashing pool's effect on the event loop; the gate's refusals
are tested in tests/test_hardening.py). ``GET /bench/lag`` reports the
largest event-loop lag seen since the last call, measured by a 5 ms ticker.
"""

import argparse
import asyncio
import importlib
import time

import socketio
from aiohttp import web

import shared.webapp.app
from shared.policy import Policy
from shared.policy.throttle import HashingGate
from shared.policy.tokens import TokenIssuer, secret_from_environment

APPS = {"legacy": "legacy_authorization.app", "middleware": "middleware_auth.app"}
LOGINS = 50  # bench.run's event-loop lag row: concurrent password logins


def bare_app() -> web.Application:
    """The floor: the same packets (CONNECT, then a welcome event), no decision."""
    sio = socketio.AsyncServer(async_mode="aiohttp")

    async def connect(sid, environ, auth=None):
        sio.start_background_task(sio.emit, "welcome", {"user": None}, to=sid)

    sio.on("connect", connect)
    app = web.Application()
    sio.attach(app)
    return app


class LagProbe:
    def __init__(self, interval: float = 0.005):
        self.interval = interval
        self.worst = 0.0

    async def run(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(self.interval)
            self.worst = max(self.worst, time.perf_counter() - started - self.interval)

    async def report(self, request: web.Request) -> web.Response:
        worst, self.worst = self.worst, 0.0
        return web.json_response({"max_lag_ms": worst * 1000})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=["bare", *APPS])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    if args.scenario == "bare":
        app = bare_app()
    else:
        policy = Policy(TokenIssuer(secret_from_environment()),  # no throttle: see above
                        hashing=HashingGate(in_flight=LOGINS, per_address=LOGINS))
        shared.webapp.app.MAX_SESSIONS_PER_ADDRESS = 1_000_000  # one address for every client
        app = importlib.import_module(APPS[args.scenario]).create_app(policy=policy)
    probe = LagProbe()
    app.router.add_get("/bench/lag", probe.report)

    tasks = []

    async def start_probe(app):
        tasks.append(asyncio.create_task(probe.run()))

    app.on_startup.append(start_probe)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None,
                shutdown_timeout=1)


if __name__ == "__main__":
    main()
