"""A raw Socket.IO 0.9 client (protocol 1, xhr-polling), to connect to the real 0.9.19 server.

No Python library speaks protocol 1. This one does what ``socket.io-client@0.9.16`` did: the
handshake ``GET /socket.io/1/?…&t=…``, then long-polls on ``/socket.io/1/xhr-polling/<sid>``,
and ``1::/ns`` to join a namespace. Packets are ``type:id:endpoint:data``.
"""

import json
import time
from dataclasses import dataclass

import aiohttp
from yarl import URL

from tests.raw_client import CORS_HEADERS

FRAME = "\ufffd"


@dataclass(frozen=True)
class Answer09:
    status: int  # of the handshake
    body: str  # of the handshake
    content_type: str
    cors: tuple  # the CORS headers of the handshake answer, (name, value) pairs
    welcome: dict | None = None  # the app's welcome event, when connected
    namespace_error: str | None = None  # the error packet's reason, when a namespace refused
    joined: bool = False  # the server echoed the namespace's connect packet


def packets_in(body: str) -> list[str]:
    """xhr-polling frames several packets as ``\\ufffd<length>\\ufffd<packet>``."""
    if not body.startswith(FRAME):
        return [body] if body else []
    parts = body.split(FRAME)[1:]
    return parts[1::2]


def split_packet(packet: str) -> tuple[str, str, str, str]:
    kind, message_id, endpoint, *data = packet.split(":", 3)
    return kind, message_id, endpoint, data[0] if data else ""


async def connect09(base: str, *, query: str = "", headers=None, namespace: str = "/",
                    timeout: float = 5) -> Answer09:
    """Handshake, then join ``namespace`` and wait for the welcome event or the refusal."""
    headers = headers or {}
    endpoint = "" if namespace == "/" else namespace
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(timeout=client_timeout) as http:
        stamp = f"t={int(time.time() * 1000)}"
        url = f"{base}/socket.io/1/?{query}&{stamp}" if query else f"{base}/socket.io/1/?{stamp}"
        async with http.get(URL(url, encoded=True), headers=headers) as response:
            body = await response.text()
            answer = Answer09(response.status, body, response.headers.get("Content-Type", ""),
                              tuple((h, response.headers[h]) for h in CORS_HEADERS
                                    if h in response.headers))
        if answer.status != 200:
            return answer
        polled = URL(f"{base}/socket.io/1/xhr-polling/{body.split(':')[0]}", encoded=True)
        joined, welcome, error = False, None, None
        try:
            for attempt in range(6):
                if attempt == 1 and endpoint:  # the transport is open: join the namespace
                    async with http.post(polled, data=f"1::{endpoint}".encode(),
                                         headers=headers):
                        pass
                try:
                    async with http.get(polled.with_query(t=str(time.time_ns())), headers=headers,
                                        timeout=aiohttp.ClientTimeout(total=1)) as response:
                        received = packets_in(await response.text())
                except TimeoutError:  # a long-poll with nothing to say
                    received = []
                for packet in received:
                    kind, _, at, data = split_packet(packet)
                    if at != endpoint:
                        continue
                    if kind == "1" or kind == "5":
                        joined = True
                    if kind == "7":  # error: reason code 2 is "unauthorized", others ''
                        error = "unauthorized" if data.split("+")[0] == "2" else ""
                    if kind == "5" and json.loads(data)["name"] == "welcome":
                        welcome = json.loads(data)["args"][0]
                if not received and (joined or error is not None):
                    break  # nothing more to come: an error is read on until then too
            return _with(answer, joined=joined, welcome=welcome, namespace_error=error)
        finally:
            async with http.get(polled.with_query(disconnect="1")):
                pass


def _with(answer: Answer09, **changes) -> Answer09:
    return Answer09(**{**answer.__dict__, **changes})
