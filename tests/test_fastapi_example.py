"""The python-socketio page's FastAPI example (``examples/package/fastapi_app.py``) under
uvicorn: what each namespace's chain answers, ``socket.data`` in the app's own connect
handler, ``io.socket(sid, namespace)``, and what a middleware that raises gives the client."""

import json
import socket
import subprocess
import sys

import aiohttp
import pytest

from tests.client import python_client, until
from tests.node import ROOT, NodeServer
from tests.raw_client import raw_handshake

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


@pytest.mark.parametrize(("body", "answer"), [
    (b"40\xff\xfe", (400, "bad payload")),  # not UTF-8: python-engineio would log a traceback
    (b"40/\x1e,", (400, "bad payload")),  # a separator before a non-digit, likewise
    (b"40\x1e0", (400, "bad payload")),  # "open", which python-engineio takes from no client
    (b"4" * (64 * 1024 + 1), (413, "payload too large")),
], ids=["not-utf-8", "malformed", "open-from-a-client", "oversized"])
async def test_under_asgi_a_polling_post_it_cannot_read_is_refused_at_once(example, body,
                                                                           answer):
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        base = f"{example.url}/socket.io/?EIO=4&transport=polling"
        async with http.get(base) as opened:
            sid = json.loads((await opened.text())[1:])["sid"]
        async with http.post(f"{base}&sid={sid}", data=body,
                             headers={"Content-Type": "text/plain"}) as response:
            assert (response.status, await response.text()) == answer
    assert not any("Traceback" in line for line in example.lines)
    async with python_client() as client:  # the server keeps serving
        await client.connect(example.url, auth={"token": "let-me-in"}, wait_timeout=5)
        assert (await client.call("whoami", timeout=5))["data"]["user"] == "alice"
