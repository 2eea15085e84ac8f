"""A raw Engine.IO 4 polling client: sends any bytes a hostile client could, and reads the
answer at whichever level it comes (HTTP status, or the Socket.IO CONNECT / CONNECT_ERROR)."""

import asyncio
import json
import re
from dataclasses import dataclass

import aiohttp
from yarl import URL

SEPARATOR = "\x1e"
SESSION_ENDED = '2["session_ended"'  # a Socket.IO EVENT packet, as RawWebSocket keeps it
CORS_HEADERS = ("Access-Control-Allow-Origin", "Access-Control-Allow-Credentials")
TEXT = "text/plain;charset=UTF-8"


@dataclass(frozen=True)
class RawAnswer:
    status: int  # of the handshake request
    connected: bool = False
    connect_error: dict | None = None
    body: str = ""
    welcome: dict | None = None  # the app's welcome event, when connected
    content_type: str = ""  # the handshake answer's Content-Type header, as sent
    cors: tuple = ()  # its CORS headers, (name, value) pairs


async def raw_handshake(base: str, *, query: str = "", headers=None, auth: str | None = None,
                        namespace: str = "/", timeout: float = 5,
                        http: aiohttp.ClientSession | None = None, close: bool = True) -> RawAnswer:
    """``query`` is sent as is (percent-encoding included); ``auth`` is raw JSON text.
    ``http``: a session to reuse; ``close=False`` leaves the socket open."""
    if http is None:
        client_timeout = aiohttp.ClientTimeout(total=timeout)
        async with aiohttp.ClientSession(timeout=client_timeout) as http:
            return await raw_handshake(base, query=query, headers=headers, auth=auth,
                                       namespace=namespace, http=http, close=close)
    path = f"{base}/socket.io/?EIO=4&transport=polling" + (f"&{query}" if query else "")
    async with http.get(URL(path, encoded=True), headers=headers or {}) as response:
        body = await response.text(errors="replace")
        cors = tuple((name, response.headers[name]) for name in CORS_HEADERS
                     if name in response.headers)
        if response.status != 200:
            return RawAnswer(response.status, body=body,
                             content_type=response.headers.get("Content-Type", ""),
                             cors=cors)
    sid = json.loads(body[1:])["sid"]
    polled = URL(f"{base}/socket.io/?EIO=4&transport=polling&sid={sid}", encoded=True)
    prefix = "" if namespace == "/" else f"{namespace},"
    packet = f"40{prefix}{auth or ''}"
    post_headers = {**(headers or {}), "Content-Type": TEXT}  # engine.io (Node) wants text
    async with http.post(polled, data=packet.encode(), headers=post_headers) as response:
        if response.status != 200:
            return RawAnswer(response.status, body=await response.text())
    packets = []
    for _ in range(3):  # CONNECT's answer, then the welcome event if it is not with it
        async with http.get(polled, headers=headers or {}) as response:
            packets += (await response.text()).split(SEPARATOR)
        if any(p.startswith(f"44{prefix}") or p.startswith(f'42{prefix}["welcome"')
               for p in packets):
            break
    if close:
        async with http.post(polled, data=b"1", headers={"Content-Type": TEXT}):  # close it
            pass
    answer = read_answer(packets, prefix)
    return RawAnswer(**{**answer.__dict__, "cors": cors})


# Polling POSTs python-engineio cannot take: the bytes originals/v4/polling-payloads.js sends
# real socket.io 4.8, which answers otherwise (docs/reference/fidelity.md#polling-payloads);
UNTAKEN_POSTS = {
    "open-from-a-client": b"40\x1e0",
    "ping-from-a-client": b"40\x1e2",
    "packet-with-no-type": b"40\x1e,",
    "not-utf-8": b"40\xff\xfe",
    "over-the-packet-limit": None,  # one byte over the maxPayload the handshake told
}
UNTAKEN_ANSWERS = {name: (413, "payload too large") if body is None else (400, "bad payload")
                   for name, body in UNTAKEN_POSTS.items()}


async def post_untaken(base: str, name: str, connect: str = "40") -> tuple[int, str]:
    """On a new polling session, a CONNECT whose reply stays queued (nobody polls), then
    ``UNTAKEN_POSTS[name]``: its answer, which must come at once (5 s). The session must live
    on: the next long-poll starts with the CONNECT's reply."""
    text = {"Content-Type": "text/plain"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        path = f"{base}/socket.io/?EIO=4&transport=polling"
        async with http.get(path) as opened:
            handshake = json.loads((await opened.text())[1:])
        polled = f"{path}&sid={handshake['sid']}"
        body = UNTAKEN_POSTS[name] or b"4" * (handshake["maxPayload"] + 1)
        async with http.post(polled, data=connect, headers=text) as response:
            assert (response.status, await response.text()) == (200, "OK")  # python-engineio's
        async with http.post(polled, data=body, headers=text) as response:
            answer = (response.status, await response.text())
        async with http.get(polled) as response:
            reply = await response.text()
    assert re.fullmatch(r'40\{"sid":"[\w-]+"\}', reply.split(SEPARATOR)[0]), \
        f"the session did not live on: {reply}"
    return answer


def read_answer(packets: list[str], prefix: str) -> RawAnswer:
    welcome = next((json.loads(p[2 + len(prefix):])[1] for p in packets
                    if p.startswith(f'42{prefix}["welcome"')), None)
    for packet in packets:
        if packet.startswith(f"40{prefix}"):
            return RawAnswer(200, connected=True, welcome=welcome)
        if packet.startswith(f"44{prefix}"):
            return RawAnswer(200, connect_error=json.loads(packet[2 + len(prefix):]))
    return RawAnswer(200, body=SEPARATOR.join(packets))


class RawWebSocket:
    """A raw Engine.IO 4 WebSocket (no polling first): sends any packet, reads every packet,
    answers the server's pings, and tells when the server has closed the connection."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse):
        self.ws = ws
        self.packets: list[str] = []  # every Socket.IO packet received, in order

    @classmethod
    async def open(cls, http: aiohttp.ClientSession, base: str, query: str = ""
                   ) -> "RawWebSocket":
        url = (f"{base.replace('http', 'ws', 1)}/socket.io/?EIO=4&transport=websocket"
               + (f"&{query}" if query else ""))
        socket = cls(await http.ws_connect(URL(url, encoded=True)))
        opened = await socket.ws.receive_str(timeout=5)
        assert opened.startswith("0{"), opened
        return socket

    async def send(self, packet: str) -> None:
        await self.ws.send_str("4" + packet)  # an Engine.IO MESSAGE carrying it

    async def next(self, prefix: str, timeout: float = 3.0) -> str:
        """The first packet received, from now or before, that starts with ``prefix``."""
        async with asyncio.timeout(timeout):
            while True:
                for packet in self.packets:
                    if packet.startswith(prefix):
                        self.packets.remove(packet)
                        return packet
                if not await self._receive():
                    raise AssertionError(f"closed before a packet {prefix!r}: {self.packets}")

    async def settled(self, timeout: float = 3.0) -> str:
        """``refused`` once a CONNECT_ERROR came, ``closed`` once the server closed the
        connection, ``open`` if neither happened within ``timeout``."""
        try:
            async with asyncio.timeout(timeout):
                while not any(packet.startswith("4{") for packet in self.packets):
                    if not await self._receive():
                        return "closed"
        except TimeoutError:
            return "open"
        return "refused"

    async def closed_by_server(self, timeout: float = 3.0) -> bool:
        """Read until the server closes the connection: False if it is still open then."""
        try:
            async with asyncio.timeout(timeout):
                while await self._receive():
                    pass
        except TimeoutError:
            return False
        return True

    async def _receive(self) -> bool:
        message = await self.ws.receive()
        if message.type != aiohttp.WSMsgType.TEXT:
            return False  # closed (or closing)
        if message.data == "2":
            await self.ws.send_str("3")
        elif message.data.startswith("4"):
            self.packets.append(message.data[1:])
        elif message.data == "1":  # Engine.IO CLOSE
            return False
        return True

    async def close(self) -> None:
        await self.ws.close()
