"""Where a handshake's server CPU goes: py-spy samples each Python server while it answers
handshakes, and each sample is charged to the code that asked for the work: the innermost
frame outside the standard library (json, hmac, asyncio's helpers work for their caller),
except the event loop itself and logging, which are shown apart."""

import asyncio
import collections
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

CATEGORIES = {  # the first part of a frame's file path that names its package -> category
    "socketio_handshake_auth/": "the engines (socketio_handshake_auth)",
    "shared/policy/": "the policy: token check, carriers",
    "shared/webapp/": "the web app: guards, sessions, access log",
    "legacy_authorization/": "the app's own code",
    "middleware_auth/": "the app's own code",
    "bench/": "the app's own code",  # the bare server's connect handler
    "site-packages/aiohttp/": "aiohttp: HTTP and websocket",
    "site-packages/yarl/": "aiohttp: HTTP and websocket",
    "site-packages/multidict/": "aiohttp: HTTP and websocket",
    "site-packages/engineio/": "python-engineio",
    "site-packages/socketio/": "python-socketio",
    "site-packages/bidict/": "python-socketio",
}
LOGGING = "logging (the same lines for every server)"
LOOP = "the event loop and the sockets"
ENTRY = ("main (", "<module> (", "run_app (")  # what started the loop: under every sample


def category(frames: list[str]) -> str:
    """``frames``: outermost first, as py-spy writes them: ``function (path:line)``."""
    for frame in reversed(frames):
        if frame.startswith(ENTRY):
            continue
        if "/logging/" in frame:
            return LOGGING
        for marker, name in CATEGORIES.items():
            if marker in frame:
                return name
    return LOOP


def shares(raw: Path) -> dict[str, float]:
    """The share of samples each category takes, from py-spy's ``--format raw`` output
    (one ``frame;frame;... count`` line per distinct stack); idle time is left out."""
    counts: collections.Counter[str] = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if "select (selectors.py" in frames[-1]:  # waiting for the network: not CPU
            continue
        counts[category(frames)] += int(count)
    total = sum(counts.values())
    return {name: count / total for name, count in counts.most_common()}


async def profile(server, load) -> dict[str, float]:
    """Sample ``server``'s process while ``await load()`` runs."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    with tempfile.TemporaryDirectory() as folder:
        raw = Path(folder) / "profile.txt"
        recorder = subprocess.Popen(
            [spy, "record", "--nonblocking", "--rate", "250", "--format", "raw", "--full-filenames",
             "--output", str(raw), "--pid", str(server.process.pid)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        await asyncio.sleep(1)  # attached
        await load()
        recorder.send_signal(signal.SIGINT)
        _, error = recorder.communicate(timeout=30)
        if not raw.is_file():
            raise RuntimeError(f"py-spy could not sample {server.kind}: {error.decode()}")
        return shares(raw)
