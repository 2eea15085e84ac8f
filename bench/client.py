"""The bench's load client: raw Engine.IO 4 handshakes, the same bytes for every server, so
that the client's own cost stays small and alike. A handshake is what socket.io-client does to
connect: open the session, CONNECT to ``/``, read the answer and the server's welcome event,
close. Its verdict is ``accepted`` (CONNECT answered, welcome received) or ``refused`` (an
HTTP 403, the 0.9 way, or a CONNECT_ERROR); anything else raises."""

import json

import aiohttp
from yarl import URL

SEPARATOR = "\x1e"  # between Engine.IO packets in one polling payload
TEXT = {"Content-Type": "text/plain;charset=UTF-8"}  # what engine.io (Node) wants for a POST
ACCEPTED, REFUSED = "accepted", "refused"


class UnexpectedAnswer(Exception):
    """The server answered neither as an accept nor as a refusal."""


def verdict(packets: list[str]) -> str | None:
    """``accepted`` once the CONNECT answer and the welcome event came, ``refused`` once a
    CONNECT_ERROR came, None while neither. A packet is an Engine.IO MESSAGE (``4``) carrying
    a Socket.IO CONNECT (``0``), EVENT (``2``) or CONNECT_ERROR (``4``)."""
    if any(packet.startswith("44") for packet in packets):
        return REFUSED
    connected = any(packet.startswith("40") for packet in packets)
    welcomed = any(packet.startswith('42["welcome"') for packet in packets)
    return ACCEPTED if connected and welcomed else None


async def open_session(http: aiohttp.ClientSession, base: str, query: str) -> str | None:
    """The session id of a new polling session; None when the handshake was refused (403)."""
    url = URL(f"{base}/socket.io/?EIO=4&transport=polling&{query}", encoded=True)
    async with http.get(url) as response:
        body = await response.text()
        if response.status == 403:
            return None
        if response.status != 200 or not body.startswith("0{"):
            raise UnexpectedAnswer(f"{response.status} {body[:200]!r}")
    return json.loads(body[1:])["sid"]


async def polling_handshake(http: aiohttp.ClientSession, base: str, query: str, *,
                            close: bool = True) -> str:
    """Over long polling only; ``close=False`` leaves the session open (the memory figure)."""
    sid = await open_session(http, base, query)
    if sid is None:
        return REFUSED
    url = URL(f"{base}/socket.io/?EIO=4&transport=polling&sid={sid}", encoded=True)
    async with http.post(url, data=b"40", headers=TEXT) as response:
        if response.status != 200:
            raise UnexpectedAnswer(f"CONNECT: {response.status}")
    packets: list[str] = []
    for _ in range(3):  # the CONNECT answer, then the welcome event if it did not come with it
        async with http.get(url) as response:
            packets += (await response.text()).split(SEPARATOR)
        if answer := verdict(packets):
            break
    else:
        raise UnexpectedAnswer(f"no verdict in {packets}")
    if close:
        async with http.post(url, data=b"1", headers=TEXT):  # Engine.IO CLOSE
            pass
    return answer


async def upgraded_handshake(http: aiohttp.ClientSession, base: str, query: str, *,
                             timeout: float = 5) -> str:
    """As a browser's client connects: open over polling, upgrade to websocket (``2probe``,
    ``3probe``, ``5``), then CONNECT, read the answer (and the welcome) and close."""
    sid = await open_session(http, base, query)
    if sid is None:
        return REFUSED
    url = URL(f"{base.replace('http', 'ws', 1)}/socket.io/?EIO=4&transport=websocket&sid={sid}",
              encoded=True)
    async with http.ws_connect(url) as ws:
        await ws.send_str("2probe")
        if (probe := await ws.receive_str(timeout=timeout)) != "3probe":
            raise UnexpectedAnswer(f"websocket probe answered {probe!r}")
        await ws.send_str("5")  # Engine.IO UPGRADE
        await ws.send_str("40")  # Socket.IO CONNECT, in an Engine.IO MESSAGE
        packets: list[str] = []
        while not (answer := verdict(packets)):
            packets.append(await ws.receive_str(timeout=timeout))
    return answer
