"""Clients of the real Node servers, as the tests see them: a raw Socket.IO 0.9 WebSocket (the
0.9.16 client's transport), a raw Engine.IO 4 WebSocket, each with the headers a browser sends
(Cookie, Origin), a handshake that connects only once something else has happened
(``CONNECT_AFTER``), and what a connection attempt came to (``Seen``)."""

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote, unquote

import aiohttp
from yarl import URL

from tests.client09 import FRAME, packets_in, split_packet
from tests.client09 import connect09 as connect09_polling
from tests.raw_client import SEPARATOR, TEXT, raw_handshake, read_answer


def tampered(cookie: str) -> str:
    """A signed cookie (``name=s%3Aid.signature``) with the last character of its signature
    changed, as an attacker who cannot sign would send it."""
    name, value = cookie.split("=", 1)
    signed_value = unquote(value)
    last = "B" if signed_value.endswith("A") else "A"
    return f"{name}={quote(signed_value[:-1] + last, safe='')}"


@dataclass(frozen=True)
class Seen:
    """What the client saw: the welcome, else an HTTP refusal, else a connect_error payload."""

    welcome: dict | None = None
    status: int = 200
    body: str = ""
    connect_error: dict | None = None
    ended: bool = False  # the server ended the connection before any welcome


async def connect_4(url: str, headers: dict, transport: str, query: str = "") -> Seen:
    """``query``: more of the handshake's query string, percent-encoded (``token=…``)."""
    if transport == "polling":
        answer = await raw_handshake(url, query=query, headers=headers)
        return Seen(answer.welcome, answer.status, answer.body, answer.connect_error)
    async with aiohttp.ClientSession() as http:
        try:
            socket = await Socket4.open(http, url, headers, query)
        except aiohttp.WSServerHandshakeError as refused:
            return Seen(status=refused.status)
        async with socket:
            return await socket.outcome()


class Socket4:
    """A raw Engine.IO 4 WebSocket (no polling first), with the browser's headers."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse):
        self.ws = ws

    @classmethod
    async def open(cls, http: aiohttp.ClientSession, url: str, headers: dict,
                   query: str = "") -> "Socket4":
        ws_url = f"{url.replace('http', 'ws', 1)}/socket.io/?EIO=4&transport=websocket"
        ws_url += f"&{query}" if query else ""
        socket = cls(await http.ws_connect(URL(ws_url, encoded=True), headers=headers))
        assert (await socket.ws.receive_str(timeout=5)).startswith("0{")  # Engine.IO OPEN
        await socket.ws.send_str("40")  # Socket.IO CONNECT to /
        return socket

    async def outcome(self) -> Seen:
        while True:
            packet = await self.ws.receive_str(timeout=5)
            if packet.startswith("44"):
                return Seen(connect_error=json.loads(packet[2:]))
            if packet.startswith('42["welcome"'):
                return Seen(json.loads(packet[2:])[1])

    async def welcome(self) -> dict:
        seen = await self.outcome()
        assert seen.welcome, seen
        return seen.welcome

    async def emit(self, event: str, ack_id: int) -> list:
        await self.ws.send_str(f"42{ack_id}{json.dumps([event])}")
        while not (packet := await self.ws.receive_str(timeout=5)).startswith(f"43{ack_id}"):
            pass
        return json.loads(packet[2 + len(str(ack_id)):])

    async def ended_by_server(self, timeout: float) -> bool:
        """Read until the server ends the connection: True; False if it is still open after
        ``timeout`` seconds."""
        try:
            async with asyncio.timeout(timeout):
                message = await self.ws.receive()
                while message.type == aiohttp.WSMsgType.TEXT:
                    if message.data == "2":
                        await self.ws.send_str("3")  # a ping: answer it
                    message = await self.ws.receive()
        except TimeoutError:
            return False
        return True

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.ws.close()


async def connect_09(url: str, headers: dict, transport: str, query: str = "") -> Seen:
    """``query``: more of the handshake's query string, percent-encoded (``token=…``)."""
    if transport == "polling":
        answer = await connect09_polling(url, query=query, headers=headers)
        return Seen(answer.welcome, answer.status, answer.body)
    async with aiohttp.ClientSession() as http:
        socket = await Socket09.open(http, url, headers, query)
        if isinstance(socket, Seen):
            return socket
        async with socket:
            return Seen(await socket.welcome())


class Socket09:
    """What the 0.9.16 client does with ``transports: ['websocket']``: the handshake (always
    over HTTP), then ``/socket.io/1/websocket/<sid>``. Packets are ``type:id:endpoint:data``."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse):
        self.ws = ws

    @classmethod
    async def open(cls, http: aiohttp.ClientSession, url: str, headers: dict, query: str = ""):
        stamp = f"t={int(time.time() * 1000)}"
        handshake = URL(f"{url}/socket.io/1/?{f'{query}&' if query else ''}{stamp}", encoded=True)
        async with http.get(handshake, headers=headers) as answer:
            body = await answer.text()
            if answer.status != 200:
                return Seen(status=answer.status, body=body)
        ws_url = f"{url.replace('http', 'ws', 1)}/socket.io/1/websocket/{body.split(':')[0]}"
        return cls(await http.ws_connect(ws_url, headers=headers))

    async def packets(self):
        while True:
            message = await self.ws.receive(timeout=5)
            if message.type != aiohttp.WSMsgType.TEXT:
                return
            for packet in message.data.split(FRAME)[2::2] or [message.data]:
                yield split_packet(packet)

    async def welcome(self) -> dict:
        async for kind, _, _, data in self.packets():
            if kind == "5" and json.loads(data)["name"] == "welcome":
                return json.loads(data)["args"][0]
        raise AssertionError("closed before the welcome event")

    async def emit(self, event: str, ack_id: int) -> list:
        await self.ws.send_str(f"5:{ack_id}+::{json.dumps({'name': event})}")
        async for kind, _, _, data in self.packets():
            if kind == "6" and data.startswith(f"{ack_id}+"):
                return json.loads(data[len(str(ack_id)) + 1:])
        raise AssertionError("closed before the acknowledgement")

    async def ended_by_server(self, timeout: float) -> bool:
        """Read until the server ends the connection (a disconnect packet ``0::``, or close):
        True; False if it is still open after ``timeout`` seconds."""
        try:
            async with asyncio.timeout(timeout):
                async for kind, _, endpoint, _ in self.packets():
                    if kind == "0" and endpoint == "":
                        return True
                    if kind == "2":
                        await self.ws.send_str("2::")  # a heartbeat: answer it
        except TimeoutError:
            return False
        return True

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.ws.close()


# ---- the handshake, something else, then the connection (polling, as the attacker did) ---------
Meanwhile = Callable[[], Awaitable[None]]
ANSWER_WITHIN = 5  # seconds: a server that says nothing by then fails the test


async def connect_4_after(url: str, headers: dict, meanwhile: Meanwhile) -> Seen:
    """The Engine.IO handshake, then ``meanwhile()``, then the CONNECT to ``/`` on that same
    Engine.IO connection."""
    engine = f"{url}/socket.io/?EIO=4&transport=polling"
    async with aiohttp.ClientSession() as http, asyncio.timeout(ANSWER_WITHIN):
        async with http.get(URL(engine, encoded=True), headers=headers) as answer:
            assert answer.status == 200, await answer.text()
            sid = json.loads((await answer.text())[1:])["sid"]
        polled = URL(f"{engine}&sid={sid}", encoded=True)
        await meanwhile()
        async with http.post(polled, data=b"40", headers={**headers, "Content-Type": TEXT}
                             ) as answer:
            assert answer.status == 200, await answer.text()
        packets: list[str] = []
        while not any(p.startswith(("44", '42["welcome"')) for p in packets):
            async with http.get(polled, headers=headers) as answer:
                packets += (await answer.text()).split(SEPARATOR)
    seen = read_answer(packets, "")
    return Seen(seen.welcome, connect_error=seen.connect_error)


async def connect_09_after(url: str, headers: dict, meanwhile: Meanwhile) -> Seen:
    """The handshake (``GET /socket.io/1/``), then ``meanwhile()``, then the xhr-polling
    transport that handshake named: read until the welcome, or the packet that ended the
    connection (in ``body``)."""
    async with aiohttp.ClientSession() as http, asyncio.timeout(ANSWER_WITHIN):
        handshake = URL(f"{url}/socket.io/1/?t={int(time.time() * 1000)}", encoded=True)
        async with http.get(handshake, headers=headers) as answer:
            body = await answer.text()
            assert answer.status == 200, body
        polled = URL(f"{url}/socket.io/1/xhr-polling/{body.split(':')[0]}", encoded=True)
        await meanwhile()
        while True:
            async with http.get(polled.with_query(t=str(time.time_ns())), headers=headers
                                ) as answer:
                assert answer.status == 200, await answer.text()
                for packet in packets_in(await answer.text()):
                    kind, _, endpoint, data = split_packet(packet)
                    if kind == "5" and json.loads(data)["name"] == "welcome":
                        return Seen(json.loads(data)["args"][0])
                    if kind in ("0", "7") and endpoint == "":  # a disconnect, or an error
                        return Seen(body=packet, ended=True)


SOCKETS = {"0.9": Socket09, "4.8": Socket4}
CONNECT = {"0.9": connect_09, "4.8": connect_4}
CONNECT_AFTER = {"0.9": connect_09_after, "4.8": connect_4_after}
