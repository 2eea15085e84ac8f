"""Real servers on ephemeral loopback ports, for tests and for the docs generator."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from werkzeug.serving import make_server

from shared.webapp.access_log import RedactingAccessLogger
from shared.webapp.app import ENGINE


class Servers:
    """Starts real servers on ephemeral loopback ports and stops every one of them."""

    def __init__(self, policy):
        self.policy = policy
        self.running: list[tuple[web.AppRunner, object]] = []

    async def app(self, impl, **options) -> str:
        """One of the two implementations (``tests.implementations``), as ``python -m``
        would serve it."""
        return await self.create(impl.create_app, **options)

    async def create(self, create_app, *args, **options) -> str:
        """Any app factory of the project's, with the test policy."""
        app = create_app(*args, policy=self.policy, **options)
        return await self.serve(app, app[ENGINE])

    async def engine(self, io) -> str:
        """A bare engine (``LegacyServer`` / ``MiddlewareServer``) with the test's own auth."""
        app = web.Application()
        io.attach(app)
        return await self.serve(app, io)

    async def serve(self, app: web.Application, io=None, sock=None) -> str:
        """Serve on an ephemeral loopback port, or on ``sock`` (a reserved one)."""
        runner = web.AppRunner(app, shutdown_timeout=1, access_log_class=RedactingAccessLogger)
        await runner.setup()
        self.running.append((runner, io))
        site = web.SockSite(runner, sock) if sock else web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}"

    async def stop(self) -> None:
        for runner, io in self.running:
            if io is not None:
                await io.sio.shutdown()
            await runner.cleanup()


@asynccontextmanager
async def serve_werkzeug(app):
    """A Flask app on Werkzeug's threaded server, in a thread, as Flask-SocketIO's threading
    mode runs it: its base URL, until the block ends (then the server is stopped)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        await asyncio.to_thread(server.shutdown)
        server.server_close()
        await asyncio.to_thread(thread.join, 10)
        assert not thread.is_alive(), "werkzeug did not stop"


@asynccontextmanager
async def serve_flask_example(app):
    """``serve_werkzeug`` for the examples' Flask-SocketIO apps: then their Socket.IO server
    (its ping task) and the event loop their policy runs on stop too."""
    try:
        async with serve_werkzeug(app) as url:
            yield url
    finally:
        await asyncio.to_thread(app.extensions["socketio"].server.shutdown)
        app.extensions["policy_loop"].close()


@dataclass
class RunningModule:
    url: str
    process: subprocess.Popen
    output: str = ""  # all it printed, once stopped

    def assert_running(self) -> None:
        assert self.process.poll() is None, self.process.stdout.read().decode()


@asynccontextmanager
async def python_m(module: str):
    """``python -m <module> --port <a free port>``, with its real settings (no TOKEN_SECRET:
    a secret of its own), until the block ends; then Ctrl-C, which must stop it cleanly.
    ``output`` holds what it printed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", module, "--port", str(port)], cwd=Path(__file__).parents[1],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "TOKEN_SECRET": ""})
    running = RunningModule(f"http://127.0.0.1:{port}", process)
    try:
        yield running
        process.send_signal(signal.SIGINT)
        output, _ = await asyncio.to_thread(process.communicate, timeout=10)
        running.output = output.decode()
        assert process.returncode == 0, running.output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
