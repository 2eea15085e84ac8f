"""Mechanics only the 1.0+ engine has: the middleware chain, next(err), socket.handshake/data."""

import asyncio
import json
import logging
import re
import time

import aiohttp
import pytest
import socketio
from aiohttp import web

from shared.policy import REFUSALS
from socketio_handshake_auth.middleware import ExtendedError, MiddlewareServer
from tests.cases import CASES
from tests.client import attempt, connect, python_client, until
from tests.implementations import MIDDLEWARE
from tests.raw_client import UNTAKEN_ANSWERS, UNTAKEN_POSTS, post_untaken


def allow(socket, next):
    next()


def refuse_with(message, data=None):
    def refuse(socket, next):
        err = Exception(message)
        if data is not None:
            err.data = data
        next(err)

    return refuse


async def greet(socket):
    await socket.emit("welcome", {"user": socket.data.get("user", "anonymous"), "role": "user"})


@pytest.fixture
def io():
    io = MiddlewareServer()
    io.on("connection", greet)
    return io


@pytest.mark.parametrize(
    ("err", "seen"),
    [
        (Exception("not authorized"), {"message": "not authorized"}),
        (refuse_with("not authorized", {"code": "x", "retry": 2}),
         {"message": "not authorized", "data": {"code": "x", "retry": 2}}),
        ("a plain string", {}),  # a string has no .message: Socket.IO 4 sends {}
        ({"message": "objmsg", "data": 1}, {"message": "objmsg", "data": 1}),
        (ExtendedError("typed", {"code": "x"}), {"message": "typed", "data": {"code": "x"}}),
        (ExtendedError("typed, no data"), {"message": "typed, no data"}),
        (ExtendedError("data null", None), {"message": "data null", "data": None}),
    ],
    ids=["error", "error-with-data", "string", "error-like-dict", "extended-error",
         "extended-error-no-data", "extended-error-data-null"],
)
async def test_next_err_becomes_connect_error_with_message_and_data(io, servers, refusals, err,
                                                                    seen):
    io.use(err if callable(err) else lambda socket, next: next(err))
    url = await servers.engine(io)
    result = await connect(url, refusals)
    assert not result.verdict.accepted
    assert result.connect_error == seen


async def test_a_middleware_that_raises_is_a_generic_refusal_with_details_in_the_log(
    io, servers, refusals, caplog
):
    def broken(socket, next):
        raise RuntimeError("secret internal detail")

    io.use(broken)
    url = await servers.engine(io)
    result = await connect(url, refusals)
    assert result.connect_error == {"message": "Authorization failed"}
    assert "secret internal detail" in caplog.text
    assert "secret internal detail" not in str(result.connect_error)


async def test_async_middlewares_and_socket_data_reach_event_handlers(io, servers, refusals):
    async def look_up(socket, next):
        await asyncio.sleep(0.01)
        socket.data["user"] = "alice"
        next()

    io.use(look_up)
    io.on("whoami", lambda socket: asyncio.sleep(0, socket.data["user"]))
    url = await servers.engine(io)
    async with python_client() as client:
        await client.connect(url, wait_timeout=3)
        assert await client.call("whoami", timeout=3) == "alice"


async def test_a_room_joined_in_a_middleware_is_kept(io, servers):
    """As in 4.8, a join made while the socket is still connecting (its middlewares) holds."""

    async def join(socket, next):
        await socket.enter_room("joined-in-a-middleware")
        next()

    io.use(join)
    io.on("shout", lambda socket: io.sio.emit("heard", "by the room",
                                              room="joined-in-a-middleware"))
    url = await servers.engine(io)
    async with python_client() as client:
        heard = asyncio.get_running_loop().create_future()
        client.on("heard", heard.set_result)
        await client.connect(url, wait_timeout=3)
        await client.emit("shout")
        assert await asyncio.wait_for(heard, 3) == "by the room"


async def test_middlewares_run_once_per_namespace_connection_not_per_request(io, servers,
                                                                             refusals):
    calls = []

    def count(socket, next):
        calls.append(socket.nsp)
        next()

    io.use(count)
    io.of("/chat").use(count)
    url = await servers.engine(io)
    async with python_client() as client:
        await client.connect(url, namespaces=["/", "/chat"], wait_timeout=3)
        # polling requests, then the websocket upgrade: every request a connection makes
        await until(lambda: client.transport() == "websocket")
    assert sorted(calls) == ["/", "/chat"]
    await connect(url, refusals)  # a new connection runs the chain again
    assert sorted(calls) == ["/", "/", "/chat"]


async def test_socket_handshake_has_the_v4_fields(io, servers):
    seen = []
    io.use(lambda socket, next: seen.append(socket.handshake) or next())
    url = await servers.engine(io)
    before = time.time_ns() // 1_000_000
    async with python_client() as client:
        await client.connect(url + "?foo=bar", auth={"token": "t0k"}, wait_timeout=3,
                             headers={"X-Demo": "1"})
    (handshake,) = seen
    assert list(handshake) == ["headers", "time", "address", "xdomain", "secure", "issued",
                               "url", "query", "auth"]
    assert handshake["headers"]["x-demo"] == "1"
    assert re.fullmatch(r"\w{3} \w{3} \d\d \d{4} \d\d:\d\d:\d\d GMT[+-]\d{4} \(.+\)",
                        handshake["time"])
    assert handshake["address"] == "127.0.0.1"  # a string since 1.0, not {address, port}
    assert handshake["xdomain"] is False and handshake["secure"] is False
    assert before <= handshake["issued"] <= time.time_ns() // 1_000_000
    assert handshake["url"].startswith("/socket.io/?foo=bar&transport=polling&EIO=4&t=")
    assert set(handshake["query"]) == {"foo", "transport", "EIO", "t"}
    assert handshake["auth"] == {"token": "t0k"}


async def test_a_namespace_refusal_leaves_the_main_connection_up(io, servers):
    io.of("/admin").use(refuse_with("Forbidden namespace", {"code": "forbidden_namespace"}))
    io.on("handshake", lambda socket: asyncio.sleep(0, "still here"))
    url = await servers.engine(io)
    async with python_client() as client:
        refused = asyncio.get_running_loop().create_future()
        client.on("connect_error", refused.set_result, namespace="/admin")
        await client.connect(url, namespaces=["/", "/admin"], wait=False)
        assert await asyncio.wait_for(refused, 3) == {
            "message": "Forbidden namespace", "data": {"code": "forbidden_namespace"}}
        await until(lambda: "/" in client.namespaces)
        assert await client.call("handshake", timeout=3) == "still here"


@pytest.mark.parametrize("case", [c for c in CASES if not c.accepted_as], ids=lambda c: c.id)
async def test_the_app_tells_the_client_why_in_err_data_code(servers, tokens, refusals, case):
    url = await servers.app(MIDDLEWARE)
    result = await attempt(url, case, tokens, refusals)
    assert result.connect_error == {"message": REFUSALS[case.expect],
                                    "data": {"code": case.expect}}


def test_a_namespace_served_without_a_chain_is_named_and_logged(caplog):
    """An app's own namespace that no ``io.of(ns).use(...)`` guards is open to anyone, as in
    Socket.IO: the server names it, and says so when it is served."""
    sio = socketio.AsyncServer(async_mode="aiohttp")

    async def chat(sid, environ, auth=None):
        return True

    sio.on("connect", chat, namespace="/chat")
    io = MiddlewareServer(sio)
    io.use(lambda socket, next: next())
    io.of("/admin").use(lambda socket, next: next())
    assert io.unguarded_namespaces() == ["/chat"]
    caplog.set_level(logging.WARNING, logger="handshake.middleware")
    io.attach(web.Application())
    assert [record.getMessage() for record in caplog.records] == [
        "namespace /chat is served with no middleware: anyone may join it"]


async def test_a_chunked_polling_post_over_the_packet_limit_is_refused(io, servers):
    """No Content-Length to refuse it by: the guard counts what it read (an app's own
    client_max_size, here aiohttp's 1 MB default, is not the engine's 64 KiB limit)."""
    url = await servers.engine(io)

    async def chunks():
        for _ in range(10):
            yield b"4" * 10_000  # 100 KB in all, with Transfer-Encoding: chunked

    async with aiohttp.ClientSession() as http:
        base = f"{url}/socket.io/?EIO=4&transport=polling"
        async with http.get(base) as opened:
            sid = json.loads((await opened.text())[1:])["sid"]
        async with http.post(f"{base}&sid={sid}", data=chunks(),
                             headers={"Content-Type": "text/plain"}) as response:
            assert (response.status, await response.text()) == (413, "payload too large")


@pytest.mark.parametrize("name", UNTAKEN_POSTS)
async def test_a_polling_post_python_engineio_cannot_take_is_refused_at_once(io, servers, name):
    """A packet no client sends (open, ping), a malformed payload, bytes that are not UTF-8,
    a payload over the limit: python-engineio would close the session, holding the POST until
    a long-poll already waiting takes the queued CONNECT reply (without one, for ever), or
    log a traceback and drop the payload. The guard refuses the POST first; the session is
    as it was (``post_untaken``). Under ASGI: tests/test_fastapi_example.py."""
    answer = await post_untaken(await servers.engine(io), name)
    assert answer == UNTAKEN_ANSWERS[name]
