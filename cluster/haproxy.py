"""HAProxy (Debian's) in front of Socket.IO nodes: ``python -m cluster.haproxy --port 8081
127.0.0.1:18081 127.0.0.1:18082``.

Renders ``haproxy.cfg.template`` into a temporary folder and runs ``haproxy -f … -db`` (in the
foreground; its warnings, e.g. a node going down, on stderr) until it is stopped. The tests use
``HAProxy`` directly, and ask it through its stats socket which nodes are up and which node
holds a session.
"""

import argparse
import csv
import logging
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from string import Template

log = logging.getLogger("handshake.haproxy")
TEMPLATE = Path(__file__).with_name("haproxy.cfg.template")
BACKEND = "nodes"


def executable() -> str | None:
    return shutil.which("haproxy") or next(
        (path for path in ("/usr/sbin/haproxy", "/usr/bin/haproxy") if Path(path).exists()), None)


def render(*, host: str, port: int, nodes: Sequence[str], stats_socket: Path | str) -> str:
    """The template with its placeholders filled in; ``nodes`` are ``host:port`` strings."""
    servers = "\n".join(f"    server node{n} {node}" for n, node in enumerate(nodes, 1))
    return Template(TEMPLATE.read_text()).substitute(
        bind=f"{host}:{port}", host=host, stats_socket=stats_socket, servers=servers)


class HAProxy:
    """One haproxy process balancing ``nodes`` on ``host:port``; ``stop()`` ends it and
    removes its folder. ``output``: where its log goes (a file, or None for this stderr)."""

    def __init__(self, *, port: int, nodes: Sequence[str], host: str = "127.0.0.1",
                 output=None):
        self.host, self.port, self.nodes, self.output = host, port, list(nodes), output
        self.folder: Path | None = None
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def stats_socket(self) -> Path:
        return self.folder / "haproxy.sock"

    def start(self, timeout: float = 5.0) -> "HAProxy":
        binary = executable()
        if binary is None:
            raise FileNotFoundError("no haproxy: run `make haproxy` (apt-get install haproxy)")
        self.folder = Path(tempfile.mkdtemp(prefix="haproxy-"))
        config = self.folder / "haproxy.cfg"
        config.write_text(render(host=self.host, port=self.port, nodes=self.nodes,
                                 stats_socket=self.stats_socket))
        self.process = subprocess.Popen([binary, "-f", str(config), "-db"],
                                        stdout=self.output, stderr=self.output)
        deadline = time.monotonic() + timeout
        while not self._listening():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"haproxy did not start on {self.url}")
            time.sleep(0.02)
        return self

    def _listening(self) -> bool:
        if not self.stats_socket.exists():
            return False
        try:
            socket.create_connection((self.host, self.port), timeout=0.2).close()
        except OSError:
            return False
        return True

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def __enter__(self) -> "HAProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def command(self, line: str) -> str:
        """One command on the stats socket (HAProxy's management CLI), its answer as text."""
        with socket.socket(socket.AF_UNIX) as unix:
            unix.settimeout(2)
            unix.connect(str(self.stats_socket))
            unix.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := unix.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def servers(self) -> dict[str, dict]:
        """Each node's statistics by its ``host:port``: ``status`` (UP, DOWN, ...) and
        ``stot``, how many requests or connections it has been sent."""
        rows = csv.DictReader(self.command(f"show stat {BACKEND} 4 -1").lstrip("# ").splitlines())
        names = {f"node{n}": node for n, node in enumerate(self.nodes, 1)}
        return {names[row["svname"]]: row for row in rows if row["svname"] in names}

    def node_of(self, sid: str) -> str | None:
        """The node HAProxy sends the Engine.IO session ``sid`` to (``host:port``), if any."""
        for field in self.command(f"show table {BACKEND} key {sid}").split():
            if field.startswith("server_id="):
                return self.nodes[int(field.removeprefix("server_id=")) - 1]
        return None


def listening(nodes: Sequence[str], timeout: float) -> bool:
    """Wait until every node accepts connections, at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    for node in nodes:
        host, port = node.rsplit(":", 1)
        while True:
            try:
                socket.create_connection((host, int(port)), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.1)
    return True


def stop_once(*_) -> None:
    """SIGTERM: leave ``main`` through its ``finally`` (which stops haproxy and removes its
    folder), and let no second signal cut that clean-up short."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(0)


def main() -> None:
    parser = argparse.ArgumentParser(description="HAProxy in front of Socket.IO nodes")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, required=True, help="port to listen on")
    parser.add_argument("nodes", nargs="+", metavar="HOST:PORT", help="the nodes to balance")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    signal.signal(signal.SIGTERM, stop_once)
    listening(args.nodes, timeout=10)  # HAProxy's first health check then finds them up
    haproxy = HAProxy(host=args.host, port=args.port, nodes=args.nodes)
    try:
        haproxy.start()
        log.info("HAProxy on %s, balancing %s", haproxy.url, ", ".join(args.nodes))
        haproxy.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        haproxy.stop()


if __name__ == "__main__":
    main()
