"""python-socketio's native pattern (``examples/native/``) decides every case of the spec as
the 1.0+ server does, and answers a refusal with the same ``connect_error``: on aiohttp, on
ASGI under uvicorn, and in Flask-SocketIO, each a real server on an ephemeral loopback port."""

import asyncio
import json
import logging
import socket
import subprocess
import threading
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
import uvicorn
from aiohttp import web

from examples.native import aiohttp_app, asgi_app, flask_app
from shared.policy import REFUSALS
from tests.cases import ALICE, BOB, CASES, EXPIRED
from tests.client import RefusalLog, Verdict, attempt, python_client, until
from tests.node import require_node
from tests.servers import python_m, serve_flask_example

ROOT = Path(__file__).resolve().parents[1]


@asynccontextmanager
async def serve_aiohttp(policy):
    """In the test's own event loop."""
    runner = web.AppRunner(aiohttp_app.create_app(policy), shutdown_timeout=1, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


def loopback_socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def serve_asgi(policy):
    """uvicorn in a thread, with its own event loop, as ``uvicorn.run`` would serve it."""
    sock = loopback_socket()
    # log_config=None: uvicorn configures no handler of its own, so its records reach the root
    # logger, where no_secret_in_any_log reads them
    config = uvicorn.Config(asgi_app.create_app(policy), log_config=None, log_level="warning",
                            timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        await until(lambda: server.started or not thread.is_alive(), timeout=10)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 10)
        sock.close()
        assert not thread.is_alive(), "uvicorn did not stop"


@asynccontextmanager
async def serve_flask(policy):
    """Werkzeug's threaded server in a thread, as Flask-SocketIO's threading mode runs it."""
    async with serve_flask_example(flask_app.create_app(policy)) as url:
        yield url


SERVERS = {"aiohttp": serve_aiohttp, "asgi": serve_asgi, "flask": serve_flask}
SERVER_NAMES = {"aiohttp_app": "native-aiohttp", "asgi_app": "native-asgi",
                "flask_app": "native-flask"}

QUIET = ["werkzeug", "uvicorn.error", "uvicorn.access"]


@pytest.fixture(autouse=True)
def quiet_request_lines():
    """Werkzeug and uvicorn log request lines and WebSocket URLs at INFO, query included:
    credentials would reach the log. As the examples' ``python -m`` does, log from WARNING."""
    levels = {name: logging.getLogger(name).level for name in QUIET}
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture(params=list(SERVERS))
async def native(request, policy):
    """``(name, base URL)`` of a fresh native server: aiohttp, asgi or flask."""
    async with SERVERS[request.param](policy) as url:
        yield request.param, url


def verdict_of(result) -> Verdict:
    """What the client saw, read from the client side only: a refusal's code is in
    ``connect_error``'s data, with the policy's message for it."""
    if result.verdict.accepted:
        return result.verdict
    payload = result.connect_error
    assert isinstance(payload, dict), result.seen
    code = payload["data"]["code"]
    assert payload["message"] == REFUSALS[code], payload
    return Verdict(False, reason=code)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
async def test_handshake(native, case, tokens, refusals):
    name, url = native
    result = await attempt(url, case, tokens, refusals)
    assert verdict_of(result) == Verdict.expected(case.expected("middleware")), result.seen
    if result.verdict.accepted:
        assert result.welcome["server"] == f"native-{name}"


@pytest.mark.parametrize(("namespace", "token", "user", "role"),
                         [("/", ALICE, "alice", "user"), ("/admin", BOB, "bob", "admin")])
async def test_the_session_keeps_the_identity(native, tokens, namespace, token, user, role):
    """The connect handler saved who connected; a later event reads it back."""
    _, url = native
    async with python_client() as client:
        await client.connect(url, auth={"token": tokens[token]}, namespaces=[namespace],
                             wait_timeout=3)
        kept = await client.call("whoami", namespace=namespace, timeout=3)
    assert (kept["user"], kept["role"]) == (user, role)
    assert kept["expires_at"] > 0


async def test_a_failing_policy_is_a_refusal_not_silence(native, policy, tokens, refusals,
                                                         monkeypatch):
    """An exception in the connect handler would leave the client without an answer."""
    _, url = native

    async def broken(*args, **kwargs):
        raise RuntimeError("the user store is down")

    monkeypatch.setattr(policy, "authenticate", broken)
    result = await attempt(url, CASES[0], tokens, refusals)
    assert verdict_of(result) == Verdict(False, reason="authorization_error")


JS_CLIENT = """
const { io } = require("socket.io-client");
const socket = io(process.argv[1], { auth: JSON.parse(process.argv[2]), reconnection: false });
const seen = [];
const done = () => setTimeout(() => { console.log(JSON.stringify(seen)); socket.close(); }, 100);
socket.on("welcome", (data) => seen.push(["welcome", data, socket.connected]));
socket.on("connect", () => { seen.push(["connect"]); done(); });
socket.on("connect_error", (err) => {
  seen.push(["connect_error", err.message, err.data, socket.active]);
  done();
});
"""


@pytest.mark.parametrize(("token", "expected"), [
    (ALICE, [["welcome", {"user": "alice", "role": "user"}, True], ["connect"]]),
    (EXPIRED, [["connect_error", "Token expired", {"code": "expired_token"}, False]]),
], ids=["accepted", "refused"])
async def test_socket_io_client_4_hears_the_same(native, tokens, token, expected):
    """The real socket.io-client 4.8 (npm): a refusal's message and data as ``next(err)``
    sends them, no retry (``active`` is false); the welcome emitted from the connect handler
    is buffered and handled as the connection opens, before the ``connect`` event."""
    name, url = native
    auth = json.dumps({"token": tokens[token]})
    run = await asyncio.to_thread(
        subprocess.run, [require_node(), "-e", JS_CLIENT, url, auth], cwd=ROOT,
        capture_output=True, text=True, timeout=20, check=False)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout)
    if expected[0][0] == "welcome":
        expected[0][1] = {**expected[0][1], "server": f"native-{name}"}
    assert seen == expected


BY_ID = {case.id: case for case in CASES}


@pytest.mark.parametrize("module", ["aiohttp_app", "asgi_app", "flask_app"])
async def test_python_m_serves_and_stops(module):
    """``python -m examples.native.<module>``, with its real (throttled) policy, accepts and
    refuses; its output shows the refusal's code and no credential; Ctrl-C stops it."""
    async with python_m(f"examples.native.{module}") as running:
        async with aiohttp.ClientSession() as http:
            async def answers() -> bool:
                try:
                    async with http.get(f"{running.url}/socket.io/",
                                        params={"EIO": "4", "transport": "polling"}) as reply:
                        return reply.status == 200
                except aiohttp.ClientConnectionError:
                    return False

            async with asyncio.timeout(15):
                while not await answers():
                    running.assert_running()
                    await asyncio.sleep(0.1)
        accepted = await attempt(running.url, BY_ID["query-password-valid"], {}, RefusalLog())
        refused = await attempt(running.url, BY_ID["query-password-wrong"], {}, RefusalLog())
    assert accepted.welcome == {"user": "alice", "role": "user",
                                "server": SERVER_NAMES[module]}
    assert verdict_of(refused) == Verdict(False, reason="bad_credentials")
    assert "refused: bad_credentials" in running.output
    assert "wonderland" not in running.output and "looking-glass" not in running.output


async def test_python_engineio_alone_holds_a_post_with_an_open_packet(policy):
    """What the engines' guard refuses (docs/reference/security.md#polling-payloads), served
    by python-socketio alone: an Engine.IO "open" from a client, after a CONNECT whose reply
    is queued, and no long-poll waiting. python-engineio closes the session and waits, in
    that POST, for the queue to be taken: the POST gets no answer."""
    async with serve_aiohttp(policy) as url, aiohttp.ClientSession() as http:
        path = f"{url}/socket.io/?EIO=4&transport=polling"
        async with http.get(path) as opened:
            sid = json.loads((await opened.text())[1:])["sid"]
        polled, text = f"{path}&sid={sid}", {"Content-Type": "text/plain"}
        async with http.post(polled, data="40", headers=text) as response:
            assert response.status == 200  # refused (no token): the reply is queued
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(3), http.post(polled, data="0", headers=text):
                pass
        async with http.get(polled) as response:  # a long-poll now: the session is gone
            assert (response.status, await response.text()) == (
                400, f"\"'Session is disconnected' {sid}\"")
