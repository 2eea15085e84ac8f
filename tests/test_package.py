"""The library as a user gets it: a wheel built from the repository, installed into a clean
virtual environment, serving plain python-socketio apps of its own (aiohttp, and ASGI under
uvicorn with Starlette) whose connect handlers and sessions stay theirs. aiohttp is an extra:
the ASGI app runs in a venv where aiohttp is not installed at all."""

import socket
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import aiohttp
import pytest
import socketio
from packaging.requirements import Requirement

from socketio_handshake_auth import LegacyServer, MiddlewareServer
from tests.client import python_client
from tests.node import NodeServer
from tests.raw_client import raw_handshake

ROOT = Path(__file__).resolve().parents[1]
# this venv's packages, which the clean venvs borrow (no network here)
PACKAGES = Path(sysconfig.get_path("purelib"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--wheel-dir", str(where), str(ROOT)],
                   check=True, timeout=300, capture_output=True)
    wheel = next(where.glob("socketio_handshake_auth-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "socketio_handshake_auth/py.typed" in names
    assert {name.split("/")[0] for name in names if not name.split("/")[0].endswith(
        ".dist-info")} == {"socketio_handshake_auth"}, "nothing under a generic top-level name"
    return wheel


def venv_with(wheel: Path, where: Path, packages: Path) -> Path:
    """A new venv holding only the wheel; python-socketio and the rest come from ``packages``
    through a .pth file, never the repository's folders. Its python."""
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, timeout=120)
    python = where / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    str(wheel)], check=True, timeout=120, capture_output=True)
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "dependencies.pth").write_text(f"{packages}\n")
    return python


@pytest.fixture(scope="module")
def clean_venv(wheel, tmp_path_factory) -> Path:
    """With every package of this venv: aiohttp included, as ``[aiohttp]`` installs it."""
    return venv_with(wheel, tmp_path_factory.mktemp("with-aiohttp") / "venv", PACKAGES)


@pytest.fixture(scope="module")
def venv_without_aiohttp(wheel, tmp_path_factory) -> Path:
    """With this venv's packages less aiohttp: a folder of links to each of them but aiohttp's
    own (its package and its metadata), so that aiohttp is not installed there at all."""
    where = tmp_path_factory.mktemp("without-aiohttp")
    packages = where / "packages"
    packages.mkdir()
    for entry in PACKAGES.iterdir():
        if entry.name != "aiohttp" and not entry.name.startswith("aiohttp-"):
            (packages / entry.name).symlink_to(entry)
    python = venv_with(wheel, where / "venv", packages)
    missing = subprocess.run([python, "-c", "import aiohttp"], capture_output=True, text=True)
    assert "No module named 'aiohttp'" in missing.stderr, "aiohttp is hidden from this venv"
    return python


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Example(NodeServer):
    """An example app run by the clean venv's python, from outside the repository."""

    def __init__(self, python: Path, script: str):
        self.venv = python.parent.parent
        self.command = [str(python), str(ROOT / "examples" / "package" / script),
                        str(free_port())]
        super().__init__(script)

    def _command(self) -> list[str]:
        return self.command


# each example in the venv a user of it has: the aiohttp one with the extra, the ASGI one
# without aiohttp
VENVS = {"aiohttp_app.py": "clean_venv", "asgi_app.py": "venv_without_aiohttp"}


@pytest.fixture(params=list(VENVS))
def example(request):
    python = request.getfixturevalue(VENVS[request.param])
    app = Example(python, request.param)
    yield app
    app.stop()


async def test_the_wheel_serves_a_plain_python_socketio_app_keeping_its_handler_and_session(
        example):
    assert f"with {example.venv}/lib/" in example.lines[0], "imported from the wheel"
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
        # the app's other routes are as they were: Starlette's page; aiohttp's app has none
        assert response.status == (200 if "asgi" in example.script else 404)


def test_the_wheel_declares_its_licence_and_aiohttp_as_its_only_extra(clean_venv):
    """Its metadata: the MIT licence; python-socketio and python-engineio always, aiohttp only
    with ``[aiohttp]``; no demo or test extras (requirements.in has those)."""
    metadata = subprocess.run(
        [clean_venv, "-c", "import importlib.metadata as m; "
                           "print(m.metadata('socketio-handshake-auth').as_string())"],
        check=True, capture_output=True, text=True).stdout
    assert "License-Expression: MIT" in metadata
    fields = [line.split(": ", 1) for line in metadata.splitlines() if ": " in line]
    assert [value for name, value in fields if name == "Provides-Extra"] == ["aiohttp"]
    requires = {r.name: str(r.marker) if r.marker else None for r in
                (Requirement(value) for name, value in fields if name == "Requires-Dist")}
    assert requires == {"python-socketio": None, "python-engineio": None,
                        "aiohttp": 'extra == "aiohttp"'}


def test_without_aiohttp_attach_raises_an_import_error_that_names_the_extra(
        venv_without_aiohttp):
    attach = subprocess.run(
        [venv_without_aiohttp, "-c", "import socketio\n"
         "from socketio_handshake_auth import LegacyServer\n"
         "LegacyServer(socketio.AsyncServer(async_mode='asgi')).attach(None)"],
        capture_output=True, text=True, timeout=60)
    assert attach.stderr.splitlines()[-1] == (
        "ImportError: serving on aiohttp (Engine.attach) needs aiohttp: "
        "pip install 'socketio-handshake-auth[aiohttp]'")


@pytest.mark.parametrize("engine", [LegacyServer, MiddlewareServer])
def test_a_sync_server_is_refused_when_the_engine_is_built(engine):
    """A sync ``socketio.Server`` cannot await the authorization: refused at once, instead of
    answering every handshake with 500."""
    with pytest.raises(TypeError, match=r"needs a socketio\.AsyncServer, not a socketio\."):
        engine(socketio.Server())
