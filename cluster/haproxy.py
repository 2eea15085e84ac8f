"""HAProxy (Debian's) in front of Socket.IO nodes: ``python -m cluster.haproxy --port 8081
[--tls-port 8443] unix@/run/socketio/node1.sock unix@/run/socketio/node2.sock``.

Renders ``haproxy.cfg.template`` into a temporary folder and runs ``haproxy -f … -db`` (in the
foreground; its warnings, e.g. a node going down, on stderr) until it is stopped. With a TLS
port, it also terminates TLS there, with a self-signed certificate made in that folder at
start. The tests use ``HAProxy`` directly, and ask it through its stats socket which nodes are
up and which node holds a session.
"""

import argparse
import csv
import ipaddress
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
STICKINESS = ("stick-table ", "stick ")  # the template's lines that keep a session on its node


def executable() -> str | None:
    return shutil.which("haproxy") or next(
        (path for path in ("/usr/sbin/haproxy", "/usr/bin/haproxy") if Path(path).exists()), None)


def render(*, host: str, port: int, nodes: Sequence[str], stats_socket: Path | str,
           tls_port: int | None = None, certificate: Path | str | None = None,
           sticky: bool = True) -> str:
    """The template with its placeholders filled in; ``nodes`` are ``unix@PATH`` (or
    ``host:port``) strings; with ``tls_port``, https there with ``certificate`` (cert + key).
    ``sticky=False`` leaves out the stick lines: a test shows what goes wrong then."""
    binds = [f"    bind {host}:{port}"]
    if tls_port is not None:
        binds.append(f"    bind {host}:{tls_port} ssl crt {certificate}")
    servers = "\n".join(f"    server node{n} {node}" for n, node in enumerate(nodes, 1))
    config = Template(TEMPLATE.read_text()).substitute(
        binds="\n".join(binds), host=host, stats_socket=stats_socket, servers=servers)
    if sticky:
        return config
    return "".join(line for line in config.splitlines(keepends=True)
                   if not line.lstrip().startswith(STICKINESS))


def self_signed_certificate(folder: Path, host: str) -> tuple[Path, Path]:
    """A certificate for ``host`` and localhost, valid for a day, made now by openssl in
    ``folder``: the certificate alone (what a client may trust), and certificate + key (what
    HAProxy serves)."""
    binary = shutil.which("openssl")
    if binary is None:
        raise FileNotFoundError("no openssl: run `make haproxy` (apt-get install openssl)")
    try:
        names = f"IP:{ipaddress.ip_address(host)},DNS:localhost"
    except ValueError:
        names = f"DNS:{host},DNS:localhost"
    certificate, key = folder / "certificate.pem", folder / "key.pem"
    subprocess.run([binary, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                    f"/CN={host}", "-addext", f"subjectAltName={names}",
                    "-keyout", str(key), "-out", str(certificate)],
                   check=True, capture_output=True, timeout=30)
    bundle = folder / "haproxy.pem"
    bundle.write_bytes(certificate.read_bytes() + key.read_bytes())
    key.unlink()
    return certificate, bundle


class HAProxy:
    """One haproxy process balancing ``nodes`` on ``host:port``; ``stop()`` ends it and
    removes its folder. ``output``: where its log goes (a file, or None for this stderr);
    ``sticky=False``: plain round robin, every request to the next node."""

    def __init__(self, *, port: int, nodes: Sequence[str], host: str = "127.0.0.1",
                 output=None, tls_port: int | None = None, sticky: bool = True):
        self.host, self.port, self.nodes, self.output = host, port, list(nodes), output
        self.tls_port, self.sticky = tls_port, sticky
        self.folder: Path | None = None
        self.certificate: Path | None = None  # with a TLS port: the one HAProxy serves
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def tls_url(self) -> str:
        return f"https://{self.host}:{self.tls_port}"

    @property
    def stats_socket(self) -> Path:
        return self.folder / "haproxy.sock"

    def start(self, timeout: float = 5.0) -> "HAProxy":
        binary = executable()
        if binary is None:
            raise FileNotFoundError("no haproxy: run `make haproxy` (apt-get install haproxy)")
        self.folder = Path(tempfile.mkdtemp(prefix="haproxy-"))  # only this user opens it
        bundle = None
        if self.tls_port is not None:
            try:
                self.certificate, bundle = self_signed_certificate(self.folder, self.host)
            except BaseException:
                self.stop()
                raise
        config = self.folder / "haproxy.cfg"
        config.write_text(render(host=self.host, port=self.port, nodes=self.nodes,
                                 stats_socket=self.stats_socket, tls_port=self.tls_port,
                                 certificate=bundle, sticky=self.sticky))
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
        ports = [self.port] + ([self.tls_port] if self.tls_port is not None else [])
        try:
            for port in ports:
                socket.create_connection((self.host, port), timeout=0.2).close()
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
            self.folder = self.certificate = None

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
        """Each node's statistics by its address as given: ``status`` (UP, DOWN, ...) and
        ``stot``, how many requests or connections it has been sent."""
        rows = csv.DictReader(self.command(f"show stat {BACKEND} 4 -1").lstrip("# ").splitlines())
        names = {f"node{n}": node for n, node in enumerate(self.nodes, 1)}
        return {names[row["svname"]]: row for row in rows if row["svname"] in names}

    def node_of(self, sid: str) -> str | None:
        """The node HAProxy sends the Engine.IO session ``sid`` to (its address), if any."""
        for field in self.command(f"show table {BACKEND} key {sid}").split():
            if field.startswith("server_id="):
                return self.nodes[int(field.removeprefix("server_id=")) - 1]
        return None


def listening(nodes: Sequence[str], timeout: float) -> bool:
    """Wait until every node (``unix@PATH`` or ``host:port``) accepts connections, at most
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    for node in nodes:
        while True:
            try:
                connect(node)
                break
            except OSError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.1)
    return True


def connect(node: str) -> None:
    """Open and close one connection to ``node``; OSError if it accepts none."""
    if node.startswith("unix@"):
        with socket.socket(socket.AF_UNIX) as unix:
            unix.settimeout(0.5)
            unix.connect(node.removeprefix("unix@"))
        return
    host, port = node.rsplit(":", 1)
    socket.create_connection((host, int(port)), timeout=0.5).close()


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
    parser.add_argument("--tls-port", type=int, default=None,
                        help="also listen here with TLS (a self-signed certificate made now)")
    parser.add_argument("nodes", nargs="+", metavar="unix@PATH",
                        help="the nodes to balance (or HOST:PORT)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    signal.signal(signal.SIGTERM, stop_once)
    listening(args.nodes, timeout=10)  # HAProxy's first health check then finds them up
    haproxy = HAProxy(host=args.host, port=args.port, nodes=args.nodes, tls_port=args.tls_port)
    try:
        haproxy.start()
        urls = haproxy.url + (f" and {haproxy.tls_url}" if args.tls_port is not None else "")
        log.info("HAProxy on %s, balancing %s", urls, ", ".join(args.nodes))
        haproxy.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        haproxy.stop()


if __name__ == "__main__":
    main()
