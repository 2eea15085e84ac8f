"""Where a handshake's server CPU goes: py-spy samples each Python server while it answers
handshakes, and each sample is charged to the code that asked for the work: the innermost
frame outside the standard library (json, hmac, asyncio's helpers work for their caller),
except the event loop itself and logging, which are shown apart.

Apart from those parts, which add up to the whole, the samples also say what each well-kept
library the code calls costs, everything it calls in turn included (``CALLS``): PyJWT's
``jwt.decode``, ``asyncio.timeout``, ``parse_qsl`` / ``parse_qs``, and aiohttp's middleware
chain, which the origin guard is in. And, for the part the library's own code takes, which of
its functions takes it (``functions``)."""

import asyncio
import collections
import itertools
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

LOGGING = "logging (the same lines for every server)"
ENGINES = "socketio_handshake_auth/"  # the library: its part is also shown by function
SESSION = "the login session (aiohttp-session)"
CATEGORIES = {  # a part of a frame (its file's path, or its class) -> category; first match
    "shared/webapp/access_log.py": LOGGING,  # every server's access log: the same lines
    "shared/webapp/redaction.py": LOGGING,
    ENGINES: "the engines (socketio_handshake_auth)",
    # the apps' authorization functions read the login session; the native pattern has none
    # (session_store.py's cookie parsing, which every carrier uses, stays the policy's)
    "site-packages/aiohttp_session/": SESSION,
    "SessionStore.": SESSION,
    "MemoryStorage.": SESSION,
    "shared/policy/": "the policy: token check, carriers",
    "shared/webapp/": "the web app: origin guard, headers, live sessions",
    "legacy_authorization/": "the app's own code",
    "middleware_auth/": "the app's own code",
    "bench/": "the app's own code",  # bare's connect handler, bench/library.py's listeners
    "examples/native/": "the app's own code",
    "site-packages/jwt/": "PyJWT: the token's signature and claims",
    "site-packages/aiohttp/": "aiohttp: HTTP and websocket",
    "site-packages/yarl/": "aiohttp: HTTP and websocket",
    "site-packages/multidict/": "aiohttp: HTTP and websocket",
    "site-packages/engineio/": "python-engineio",
    "site-packages/socketio/": "python-socketio",
    "site-packages/bidict/": "python-socketio",
}
LOOP = "the event loop and the sockets"
RATE = 1000  # samples a second
ENTRY = ("main (", "<module> (", "run_app (")  # what started the loop: under every sample
BENCH = "stats ("  # bench/serve.py's GET /bench/stats: bench.run's collection before a measure
OURS = ("socketio_handshake_auth/", "shared/policy/", "shared/webapp/", "legacy_authorization/",
        "middleware_auth/", "examples/native/")
HANDLER = ("socketio_handshake_auth/", "site-packages/engineio/", "site-packages/socketio/")


def anywhere(marker: str):
    """Whether a sample is inside ``marker`` (a path's part), whoever called it."""

    def test(frames: list[str]) -> bool:
        return any(marker in frame for frame in frames)

    return test


def called_from_ours(callee: str):
    """Whether a sample is inside a call our code made into ``callee`` (a path's part): a
    call python-engineio makes to the same function is its own, and bare's too."""

    def test(frames: list[str]) -> bool:
        return any(callee in frame and any(mine in caller for mine in OURS)
                   for caller, frame in itertools.pairwise(frames))

    return test


MIDDLEWARES = ("_fix_request_current_app.<locals>.impl (",  # aiohttp adds it to any chain
               "guard.<locals>.protect (")  # the origin guard (shared/webapp/protection.py)


def in_the_middleware_chain(frames: list[str]) -> bool:
    """Whether a sample is aiohttp's middleware chain at work: in a middleware's own frame, or
    in what aiohttp or the standard library do for it, and neither in the handler the chain
    leads to (the engine's) nor in the guard's checks (the web app's part). aiohttp builds a
    route's chain once and keeps it; with any middleware, it adds one of its own."""
    for index, frame in enumerate(frames):
        if frame.startswith(MIDDLEWARES):
            return all(deeper.startswith(MIDDLEWARES)
                       or not any(marker in deeper for marker in (*HANDLER, *OURS))
                       for deeper in frames[index + 1:])
    return False


CALLS = {  # what a handshake spends in each well-kept library call, whatever it calls
    "PyJWT's jwt.decode": anywhere("site-packages/jwt/"),  # only the policy calls PyJWT
    "asyncio.timeout": called_from_ours("/asyncio/timeouts.py"),
    "parse_qsl and parse_qs": called_from_ours("/urllib/parse.py"),
    "aiohttp's middleware chain": in_the_middleware_chain,
}


def charged(frames: list[str]) -> tuple[str, str | None]:
    """The category a sample is charged to, and the frame that decided it (None for the
    event loop). ``frames``: outermost first, as py-spy writes them: ``function (path:line)``."""
    for frame in reversed(frames):
        if frame.startswith(ENTRY):
            continue
        if "/logging/" in frame:
            return LOGGING, frame
        for marker, name in CATEGORIES.items():
            if marker in frame:
                return name, frame
    return LOOP, None


def function_of(frame: str) -> str:
    """``run_middlewares (/w/socketio_handshake_auth/middleware.py:120)``:
    ``run_middlewares (middleware.py)``, whatever line the sample was on."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rpartition(':')[0].rpartition('/')[2]})"


def shares(raw: Path) -> dict:
    """From py-spy's ``--format raw`` output (one ``frame;frame;... count`` line per distinct
    stack), idle time left out: ``parts``, the share of samples each category takes (they add
    up to 1); ``calls``, the share inside each of ``CALLS``; ``functions``, the share each
    function of the library's own code is charged (they add up to the engines' part);
    ``samples``, how many."""
    parts: collections.Counter[str] = collections.Counter()
    calls: collections.Counter[str] = collections.Counter()
    functions: collections.Counter[str] = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if "select (selectors.py" in frames[-1]:  # waiting for the network: not CPU
            continue
        if any(frame.startswith(BENCH) and "bench/serve.py" in frame for frame in frames):
            continue  # not a handshake's work
        part, frame = charged(frames)
        parts[part] += int(count)
        if frame is not None and ENGINES in frame:
            functions[function_of(frame)] += int(count)
        for name, inside in CALLS.items():
            calls[name] += int(count) if inside(frames) else 0
    total = sum(parts.values())
    return {"parts": {name: count / total for name, count in parts.most_common()},
            "calls": {name: calls[name] / total for name in CALLS},
            "functions": {name: count / total for name, count in functions.most_common()},
            "samples": total}


async def profile(server, load) -> dict:
    """Sample ``server``'s process while ``await load()`` runs. py-spy pauses it for each
    sample, which slows it but reads every stack whole: with ``--nonblocking`` it misread the
    stacks that change fast (PyJWT's, seen while building this bench) and charged them
    elsewhere. The shares are of samples; the CPU per handshake comes from the rounds."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    with tempfile.TemporaryDirectory() as folder:
        raw = Path(folder) / "profile.txt"
        recorder = subprocess.Popen(
            [spy, "record", "--rate", str(RATE), "--format", "raw",
             "--full-filenames", "--output", str(raw), "--pid", str(server.process.pid)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        await asyncio.sleep(1)  # attached
        await load()
        recorder.send_signal(signal.SIGINT)
        _, error = recorder.communicate(timeout=30)
        if not raw.is_file():
            raise RuntimeError(f"py-spy could not sample {server.kind}: {error.decode()}")
        return shares(raw)
