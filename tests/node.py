"""The real Socket.IO servers on Node.js: started for the tests, stopped after them.

Each script listens on an ephemeral loopback port and prints ``listening on http://HOST:PORT``
once it does; everything else it prints is kept in ``lines`` (the 0.9 refusal codes are there,
as the Python servers keep them in their log).
"""

import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NODE = shutil.which("node")
LISTENING = re.compile(r"listening on (http://\S+)")
REFUSED = re.compile(r"refused: (\w+)")


def require_node() -> str:
    """The node binary. Under CI a missing node is a failure, never a skip."""
    if NODE:
        return NODE
    if os.environ.get("CI") == "true":
        pytest.fail("node is not installed: the oracle suite needs Node.js 20")
    pytest.skip("node is not installed (CI=true makes this a failure)")


class NodeServer:
    """``node SCRIPT --port 0 ARGS``, until ``stop()``."""

    def __init__(self, script: str, *args: str, env: dict[str, str] | None = None,
                 timeout: float = 15.0):
        self.script = script
        self.lines: list[str] = []
        self._listening = threading.Event()
        self.url = ""
        self.args = args
        self.process = subprocess.Popen(
            self._command(),
            cwd=ROOT, env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        if not self._listening.wait(timeout):
            self.stop()
            pytest.fail(f"{script} did not start: {self.lines[-20:]}")

    def _command(self) -> list[str]:
        return [require_node(), str(ROOT / self.script), "--host", "127.0.0.1", "--port", "0",
                *self.args]

    def _read(self) -> None:
        for line in self.process.stdout:
            line = line.rstrip("\n")
            self.lines.append(line)
            found = LISTENING.search(line)
            if found and not self.url:
                self.url = found.group(1)
                self._listening.set()

    def refusal_codes(self) -> list[str]:
        return [m.group(1) for line in self.lines if (m := REFUSED.search(line))]

    def refusals_after(self, count: int, timeout: float = 2.0) -> list[str]:
        """The refusal codes logged after the first ``count``, once there is one (the line may
        still be on its way through the pipe when the client has its answer)."""
        deadline = time.monotonic() + timeout
        while len(self.refusal_codes()) <= count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.refusal_codes()[count:]

    @property
    def crashed(self) -> bool:
        return self.process.poll() is not None

    def exited_within(self, seconds: float) -> bool:
        """Did the process end (a crash takes a moment to finish exiting)?"""
        try:
            self.process.wait(seconds)
        except subprocess.TimeoutExpired:
            return False
        return True

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()
