"""The python-socketio page's FastAPI example (``examples/package/fastapi_app.py``) under
uvicorn: what each namespace's chain answers, ``socket.data`` in the app's own connect
handler, ``io.socket(sid, namespace)``, and what a middleware that raises gives the client."""

import asyncio
import json
import socket
import subprocess
import sys

import aiohttp
import pytest

from socketio_handshake_auth.refusals import BODY_SECONDS
from tests.client import python_client, until
from tests.node import ROOT, NodeServer
from tests.raw_client import UNTAKEN_ANSWERS, UNTAKEN_POSTS, post_untaken, raw_handshake

SCRIPT = "examples/package/fastapi_app.py"


class FastApiExample(NodeServer):
    """The example run by this venv's python, on a free port it is given."""

    def _command(self) -> list[str]:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        return [sys.executable, str(ROOT / SCRIPT), str(port)]


@pytest.fixture
def example():
    app = FastApiExample(SCRIPT)
    yield app
    app.stop()


async def test_the_connect_handler_reads_socket_data_and_keeps_its_session(example):
    async with python_client() as client:
        await client.connect(example.url, auth={"token": "let-me-in"}, wait_timeout=5)
        seen = await client.call("whoami", timeout=5)
    assert seen == {"session": {"greeting": "hello alice"},
                    "data": {"user": "alice", "role": "user"}}


async def test_admin_has_its_own_chain_and_io_socket_names_the_namespace(example):
    async with python_client() as client:
        welcomes = []
        client.on("welcome", welcomes.append, namespace="/admin")
        await client.connect(example.url, auth={"token": "let-me-admin"},
                             namespaces=["/admin"], wait_timeout=5)
        await until(lambda: welcomes)
    assert welcomes == [{"user": "bob", "role": "admin"}]
    answer = await raw_handshake(example.url, auth='{"token": "let-me-in"}', namespace="/admin")
    assert answer.connect_error == {"message": "Forbidden namespace",
                                    "data": {"code": "forbidden_namespace"}}


async def test_a_refused_token_and_a_raising_middleware_are_clear_refusals(example):
    answer = await raw_handshake(example.url, auth='{"token": "nope"}')
    assert answer.connect_error == {"message": "Invalid credentials",
                                    "data": {"code": "bad_credentials"}}
    answer = await raw_handshake(example.url, auth='{"token": "let-me-in"}',
                                 namespace="/reports")
    assert answer.connect_error == {"message": "Authorization failed"}  # no detail sent
    assert any("reports database is down" in line for line in example.lines), "it is logged"
    async with aiohttp.ClientSession() as http, http.get(example.url + "/health") as response:
        assert await response.json() == {"ok": True}, "FastAPI's routes are as they were"


def test_the_example_type_checks():
    """The refusal (``ExtendedError``), the middleware signature (``MiddlewareSocket``,
    ``Next``) and ``io.socket()`` are typed: mypy finds nothing in the example's typed
    middlewares (python-socketio itself ships no types, hence the one disabled code)."""
    run = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental",
                          "--disable-error-code", "import-untyped", "--warn-unused-ignores",
                          SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         check=False)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("name", UNTAKEN_POSTS)
async def test_under_asgi_a_polling_post_it_cannot_take_is_refused_at_once(example, name):
    """As the aiohttp test of the same name (``tests/test_middleware_auth.py``), through
    ``asgi_app()``'s guards, on a server of the app's own: its limit is its own (1 MB)."""
    answer = await post_untaken(example.url, name, connect='40{"token": "let-me-in"}')
    assert answer == UNTAKEN_ANSWERS[name]
    assert not any("Traceback" in line for line in example.lines)


async def test_under_asgi_a_polling_post_whose_body_never_comes_gets_408(example):
    """A POST that says it sends 10 bytes and sends 2 holds a request, and would hold
    python-engineio's read for ever: the guard answers 408 after BODY_SECONDS (10 s)."""
    async with aiohttp.ClientSession() as http, http.get(
            f"{example.url}/socket.io/?EIO=4&transport=polling") as opened:
        sid = json.loads((await opened.text())[1:])["sid"]
    host, port = example.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\n"
                 f"Host: {host}:{port}\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n"
                 "\r\n40".encode())
    await writer.drain()
    try:
        async with asyncio.timeout(BODY_SECONDS + 5):
            head = await reader.readuntil(b"\r\n\r\n")
    finally:
        writer.close()
    assert head.startswith(b"HTTP/1.1 408 "), head
