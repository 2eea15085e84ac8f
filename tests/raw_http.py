"""One HTTP/1.1 request written to a socket byte for byte: what a hostile client can send and
aiohttp's client refuses to (invalid UTF-8, NUL and control bytes in a header, a broken
``Host``, raw bytes in the request target), and the status the server answered it with."""

import asyncio
import contextlib
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3})")
SID = re.compile(rb'0{"sid":"([^"]+)"')  # an Engine.IO open packet


@dataclass(frozen=True)
class RawRequest:
    method: bytes
    target: bytes  # path and query, exactly as sent
    headers: tuple[tuple[bytes, bytes], ...] = ()  # a Host among them replaces the real one
    body: bytes = b""
    websocket: bool = False  # ask for a WebSocket upgrade (RFC 6455's handshake headers)

    def encode(self, host: bytes) -> bytes:
        names = {name.lower() for name, _ in self.headers}
        lines = [self.method + b" " + self.target + b" HTTP/1.1"]
        if b"host" not in names:
            lines.append(b"Host: " + host)
        lines += [name + b": " + value for name, value in self.headers]
        if self.websocket:
            lines += [b"Upgrade: websocket", b"Connection: Upgrade", b"Sec-WebSocket-Version: 13",
                      b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="]
        else:  # the server closes the connection after its answer: it is read to the end
            lines.append(b"Connection: close")
        if self.body or self.method == b"POST":
            lines.append(b"Content-Length: " + str(len(self.body)).encode())
        return b"\r\n".join(lines) + b"\r\n\r\n" + self.body


@dataclass(frozen=True)
class RawResponse:
    status: int
    head: bytes  # the status line and headers
    body: bytes = field(repr=False, default=b"")

    @property
    def engine_io_sid(self) -> str | None:
        """The session id of an Engine.IO open packet, if this answer opened a session."""
        found = SID.match(self.body) if self.status == 200 else None
        return found.group(1).decode() if found else None


async def send(base: str, request: RawRequest, timeout: float = 10) -> RawResponse:
    """Send ``request`` to the server at ``base`` (``http://127.0.0.1:port``) on a connection of
    its own, and read the answer: to its end, or (a WebSocket upgrade) to its headers, after
    which the connection is closed, and the WebSocket with it. Status 0: the server closed the
    connection before an answer could be read (it answers a request over its size limits at
    once, and closes with the rest unread, which resets the connection)."""
    address = urlsplit(base)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    try:
        async with asyncio.timeout(timeout):
            with contextlib.suppress(ConnectionError):  # answered before it was all read
                writer.write(request.encode(address.netloc.encode()))
                await writer.drain()
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (ConnectionError, asyncio.IncompleteReadError):
                return RawResponse(0, b"")
            body = b""
            # a refused upgrade keeps the connection open: its status is all that is needed
            if not request.websocket:
                with contextlib.suppress(ConnectionError):
                    body = await reader.read()
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    status = STATUS_LINE.match(head)
    if status is None:
        raise AssertionError(f"not an HTTP answer: {head[:80]!r}")
    return RawResponse(int(status.group(1)), head, body)
