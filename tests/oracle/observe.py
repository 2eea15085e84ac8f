"""What a client of each era sees, as one short line that the real server and ours must share.

0.9: the handshake's status, content type and body (and CORS headers when an ``Origin`` was
sent), then, once connected, the namespace's answer. 4.8: ``connected`` or the
``connect_error`` payload as the python-socketio client receives it.
"""

import asyncio
import json
from urllib.parse import urlencode

import aiohttp
import socketio
from yarl import URL

from tests.client import python_client
from tests.client09 import connect09

NO_ANSWER = "no answer"


def summary09(status: int, content_type: str, body: str, cors) -> str:
    line = f"{status} {content_type} {body!r}"
    return line + "".join(f" {name}: {value}" for name, value in cors)


async def real09(url: str, params: dict, namespace: str = "/", headers=None) -> str:
    """The real 0.9.19 server, through the raw protocol-1 client."""
    try:
        answer = await connect09(url, query=urlencode(params), headers=headers,
                                 namespace=namespace, timeout=3)
    except (TimeoutError, aiohttp.ClientError):
        return NO_ANSWER
    if answer.status != 200:
        return summary09(answer.status, answer.content_type, answer.body, answer.cors)
    if not answer.joined and answer.namespace_error is None:
        return NO_ANSWER
    return connected09(answer.cors, namespace, answer.joined, answer.namespace_error)


def connected09(cors, namespace: str, joined: bool, error: str | None) -> str:
    line = "200 connected" + "".join(f" {name}: {value}" for name, value in cors)
    if namespace == "/":
        return line
    answers = [f"error {error!r}"] if error is not None else []
    answers += ["connected"] if joined else []
    return f"{line}; {namespace}: {' then '.join(answers)}"


async def ours09(url: str, params: dict, namespace: str = "/", headers=None) -> str:
    """Our legacy engine: the handshake answer raw, then the namespace through a real client."""
    query = urlencode({"EIO": "4", "transport": "polling", **params})
    timeout = aiohttp.ClientTimeout(total=3)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as http, http.get(
                URL(f"{url}/socket.io/?{query}", encoded=True), headers=headers) as response:
            body = await response.text()
            cors = tuple((h, response.headers[h]) for h in
                         ("Access-Control-Allow-Origin", "Access-Control-Allow-Credentials")
                         if h in response.headers)
            if response.status != 200:
                return summary09(response.status, response.headers.get("Content-Type", ""), body,
                                cors)
    except TimeoutError:
        return NO_ANSWER
    seen = await connect4(url, params, namespace, headers)
    error = seen.removeprefix("connect_error ")
    return connected09(cors, namespace, seen == "connected",
                       json.loads(error).get("message") if error != seen else None)


async def connect4(url: str, params: dict, namespace: str = "/", headers=None,
                   auth=None) -> str:
    """A python-socketio client: ``connected`` or the ``connect_error`` payload it got."""
    async with python_client() as client:
        errors, welcomes = [], []
        client.on("connect_error", lambda *data: errors.append(data), namespace=namespace)
        client.on("welcome", welcomes.append, namespace=namespace)
        query = urlencode(params)
        try:
            await client.connect(f"{url}?{query}" if query else url, headers=headers or {},
                                 auth=auth, namespaces=[namespace], wait_timeout=3)
        except socketio.exceptions.ConnectionError:
            if not errors or errors[0] == (None,):  # refused before Socket.IO: no payload
                return NO_ANSWER
            payload = errors[0][0] if len(errors[0]) == 1 else list(errors[0])
            return f"connect_error {json.dumps(payload, sort_keys=True)}"
        await asyncio.sleep(0.1)  # a second CONNECT or welcome, if the server sends one
        return "connected" + (f" ({len(welcomes)} welcomes)" if len(welcomes) != 1 else "")
