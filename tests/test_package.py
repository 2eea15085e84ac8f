"""The library as a user gets it: a wheel built from the repository, installed into a clean
virtual environment, serving plain python-socketio apps of its own (aiohttp, and ASGI under
uvicorn with Starlette) whose connect handlers and sessions stay theirs."""

import socket
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import aiohttp
import pytest
import socketio

from socketio_handshake_auth import LegacyServer, MiddlewareServer
from tests.client import python_client
from tests.node import NodeServer
from tests.raw_client import raw_handshake

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def clean_venv(tmp_path_factory) -> Path:
    """A new venv holding only the wheel; python-socketio and the rest come from this venv's
    site-packages through a .pth file (no network here), never the repository's folders."""
    where = tmp_path_factory.mktemp("package")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--wheel-dir", str(where / "dist"), str(ROOT)],
                   check=True, timeout=300, capture_output=True)
    wheel = next((where / "dist").glob("socketio_handshake_auth-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "socketio_handshake_auth/py.typed" in names
    assert {name.split("/")[0] for name in names if not name.split("/")[0].endswith(
        ".dist-info")} == {"socketio_handshake_auth"}, "nothing under a generic top-level name"
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    str(wheel)], check=True, timeout=120, capture_output=True)
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return python


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Example(NodeServer):
    """An example app run by the clean venv's python, from outside the repository."""

    def __init__(self, python: Path, script: str):
        self.command = [str(python), str(ROOT / "examples" / "package" / script),
                        str(free_port())]
        super().__init__(script)

    def _command(self) -> list[str]:
        return self.command


@pytest.fixture(params=["aiohttp_app.py", "asgi_app.py"])
def example(request, clean_venv):
    app = Example(clean_venv, request.param)
    yield app
    app.stop()


async def test_the_wheel_serves_a_plain_python_socketio_app_keeping_its_handler_and_session(
        example, clean_venv):
    assert f"with {clean_venv.parent.parent}/lib/" in example.lines[0], "imported from the wheel"
    legacy = "asgi" in example.script
    async with python_client() as client:
        if legacy:  # the 0.9 gate reads the query
            await client.connect(f"{example.url}?token=let-me-in", wait_timeout=5)
        else:
            await client.connect(example.url, auth={"token": "let-me-in"}, wait_timeout=5)
        seen = await client.call("whoami", timeout=5)
    assert seen["session"] == {"greeting": "hello"}, "the app's own session, intact"
    assert (seen["user"] if legacy else seen["data"]) in ("alice", {"user": "alice"})


async def test_jsonp_is_refused_on_every_path_engineio_answers(example):
    """python-engineio's ASGI app serves /socket.io and /socket.io/x as /socket.io/, so the
    guard refuses JSONP on all three. Under aiohttp the engine's one route is /socket.io/:
    the other two are aiohttp's 404, and nothing answers them at all."""
    asgi = "asgi" in example.script
    async with aiohttp.ClientSession() as http:
        for path in ("/socket.io/", "/socket.io", "/socket.io/x"):
            async with http.get(f"{example.url}{path}?EIO=4&transport=polling&j=0"
                                "&token=let-me-in") as response:
                refused = ((400, "JSONP polling is disabled") if asgi or path == "/socket.io/"
                           else (404, "404: Not Found"))
                assert (response.status, await response.text()) == refused, path


async def test_the_wheel_refuses_as_its_era_did(example):
    if "asgi" in example.script:
        answer = await raw_handshake(example.url, query="token=nope")
        assert (answer.status, answer.body) == (403, "handshake unauthorized")
    else:
        answer = await raw_handshake(example.url, auth='{"token": "nope"}')
        assert answer.connect_error == {"message": "Invalid credentials",
                                        "data": {"code": "bad_credentials"}}
    async with aiohttp.ClientSession() as http, http.get(example.url + "/") as response:
        assert response.status in (200, 404)  # the app's other routes are as they were


def test_the_wheel_declares_its_licence_and_no_extras(clean_venv):
    """Its metadata: the MIT licence, and no demo or test extras (requirements.in has those)."""
    metadata = subprocess.run(
        [clean_venv, "-c", "import importlib.metadata as m; "
                           "print(m.metadata('socketio-handshake-auth').as_string())"],
        check=True, capture_output=True, text=True).stdout
    assert "License-Expression: MIT" in metadata
    assert "Provides-Extra" not in metadata


@pytest.mark.parametrize("engine", [LegacyServer, MiddlewareServer])
def test_a_sync_server_is_refused_when_the_engine_is_built(engine):
    """A sync ``socketio.Server`` cannot await the authorization: refused at once, instead of
    answering every handshake with 500."""
    with pytest.raises(TypeError, match=r"needs a socketio\.AsyncServer, not a socketio\."):
        engine(socketio.Server())
