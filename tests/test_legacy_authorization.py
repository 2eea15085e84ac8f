"""Mechanics only the 0.9 engine has: the HTTP handshake gate and handshake_data."""

import asyncio
import re
import time
from urllib.parse import urlencode

import aiohttp
import pytest

from socketio_handshake_auth.legacy import LegacyServer, origin_allowed
from tests.cases import CASES, USERS
from tests.client import connect, fill, python_client, until
from tests.implementations import LEGACY

HANDSHAKE = "/socket.io/?EIO=4&transport=polling"


def allow(handshake_data, callback):
    callback(None, True)


async def get(url: str, **headers) -> tuple[int, str, str, dict]:
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as response:
        body = await response.text()
        return response.status, response.content_type, body, dict(response.headers)


@pytest.fixture
def io():
    return LegacyServer()


@pytest.mark.parametrize(
    ("answer", "status", "body"),
    [
        (lambda cb: cb(None, False), 403, "handshake unauthorized"),
        (lambda cb: cb(None), 403, "handshake unauthorized"),
        (lambda cb: cb(None, 0), 403, "handshake unauthorized"),  # falsy in JavaScript
        (lambda cb: cb({}, True), 500, "handshake error"),  # {} is truthy in JavaScript
        (lambda cb: cb("boom", False), 500, "handshake error"),
        (lambda cb: cb("boom", True), 500, "handshake error"),
        (lambda cb: cb(ValueError("db down")), 500, "handshake error"),
    ],
    ids=["false", "no-answer-value", "falsy-zero", "empty-object-is-an-error", "err",
         "err-and-true", "err-exception"],
)
async def test_refusals_are_byte_exact_0_9_answers(io, servers, answer, status, body):
    io.set("authorization", lambda handshake_data, callback: answer(callback))
    url = await servers.engine(io)
    assert (await get(url + HANDSHAKE))[:3] == (status, "text/plain", body)
    assert "boom" not in body and "db down" not in body
    assert not io.sio.eio.sockets, "a refused handshake must not create an Engine.IO session"


async def test_the_error_is_logged_never_sent(io, servers, caplog):
    io.set("authorization", lambda hd, cb: cb("the database is down"))
    url = await servers.engine(io)
    status, _, body, _ = await get(url + HANDSHAKE)
    assert (status, body) == (500, "handshake error")
    assert "the database is down" in caplog.text


@pytest.mark.parametrize(
    ("origins", "headers", "allowed"),
    [
        ("*:*", {}, True),
        ("*:*", {"Origin": "http://evil.example"}, True),
        ("good.example:80", {"Origin": "http://good.example"}, True),
        ("good.example:80", {"Origin": "http://evil.example"}, False),
        ("good.example:80", {"Origin": "http://d.example"}, False),  # 0.9's indexOf let it in
        ("good.example:80", {"Origin": "null"}, False),
        ("good.example:80", {}, False),  # required by config, missing from the handshake
        ("good.example:80", {"Referer": "http://good.example/page"}, True),
        ("good.example:*", {"Origin": "http://good.example:8443"}, True),
        ("*:8081", {"Origin": "http://anything.example:8081"}, True),
        ("*:8081", {"Origin": "http://anything.example:8082"}, False),
    ],
)
def test_the_0_9_origins_setting(origins, headers, allowed):
    assert origin_allowed(origins, headers.get("Origin") or headers.get("Referer")) is allowed


async def test_a_bad_origin_is_refused_before_authorization_runs(io, servers):
    calls = []
    io.set("authorization", lambda hd, cb: calls.append(hd) or cb(None, True))
    io.set("origins", "good.example:80")
    url = await servers.engine(io)
    status, ctype, body, headers = await get(url + HANDSHAKE, Origin="http://evil.example")
    assert (status, ctype, body) == (403, "text/plain", "handshake bad origin")
    assert "Access-Control-Allow-Origin" not in headers  # written before 0.9 set them
    assert calls == []


@pytest.mark.parametrize(("verdict", "status"), [((None, False), 403), (("boom",), 500)])
async def test_refusals_carry_the_0_9_cors_headers(io, servers, verdict, status):
    io.set("authorization", lambda hd, cb: cb(*verdict))
    url = await servers.engine(io)
    got_status, _, _, headers = await get(url + HANDSHAKE, Origin="http://page.example")
    assert got_status == status
    assert headers["Access-Control-Allow-Origin"] == "http://page.example"
    assert headers["Access-Control-Allow-Credentials"] == "true"


async def test_handshake_data_has_exactly_the_eight_0_9_fields(io, servers):
    seen = []
    io.set("authorization", lambda hd, cb: seen.append(dict(hd)) or cb(None, True))
    url = await servers.engine(io)
    before = time.time_ns() // 1_000_000
    await get(url + HANDSHAKE + "&foo=bar&t=1355859917678", Origin="http://page.example")
    (data,) = seen
    assert list(data) == ["headers", "address", "time", "query", "url", "xdomain", "secure",
                          "issued"]
    assert data["headers"]["origin"] == "http://page.example"  # lower-cased names, like Node
    assert data["address"]["address"] == "127.0.0.1"
    assert isinstance(data["address"]["port"], int)
    assert re.fullmatch(r"\w{3} \w{3} \d\d \d{4} \d\d:\d\d:\d\d GMT[+-]\d{4} \(.+\)", data["time"])
    assert data["query"] == {"EIO": "4", "transport": "polling", "foo": "bar",
                             "t": "1355859917678"}
    assert data["url"] == HANDSHAKE + "&foo=bar&t=1355859917678"
    assert data["xdomain"] is True
    assert data["secure"] is False
    assert before <= data["issued"] <= time.time() * 1000


def mark_alice(handshake_data, callback):
    handshake_data["user"] = "alice"  # in place: 0.9's way to pass data on
    callback(None, True, {"user": "mallory", "replaced": True})  # 0.9 ignored this object


async def test_mutation_in_place_is_the_sockets_handshake_and_a_replacement_is_ignored(
    io, servers, refusals
):
    io.set("authorization", mark_alice)
    handshakes = []

    async def on_connection(socket):
        handshakes.append(socket.handshake)
        await socket.emit("welcome", {"user": socket.handshake["user"], "role": "user"})

    io.sockets.on("connection", on_connection)
    io.of("/chat").on("connection", on_connection)
    url = await servers.engine(io)
    async with python_client() as client:
        await client.connect(url, namespaces=["/", "/chat"], wait_timeout=3)
        await until(lambda: len(handshakes) == 2)
    first, second = handshakes
    assert first is second, "all namespaces of one connection share one handshake object"
    assert first["user"] == "alice" and "replaced" not in first
    assert "issued" not in first, "0.9 deletes issued once the handshake is used"


async def test_authorization_runs_once_per_connection_not_per_request(io, servers, refusals):
    calls = []
    io.set("authorization", lambda hd, cb: calls.append(hd["query"]["transport"]) or allow(hd, cb))
    io.sockets.on("connection", lambda socket: socket.emit("welcome", {"user": "x", "role": "y"}))
    io.of("/chat")
    url = await servers.engine(io)
    async with python_client() as client:
        await client.connect(url, namespaces=["/", "/chat"], wait_timeout=3)
        # polling requests, then the websocket upgrade: every request a connection makes
        await until(lambda: client.transport() == "websocket")
    assert calls == ["polling"]
    result = await connect(url, refusals)  # a new connection is a new handshake
    assert result.verdict.accepted and calls == ["polling", "polling"]


async def test_a_websocket_only_handshake_is_gated_too(io, servers, refusals):
    io.set("authorization", lambda hd, cb: cb(None, False))
    url = await servers.engine(io)
    result = await connect(url, refusals, transports=["websocket"])
    assert not result.verdict.accepted
    ws_url = url + "/socket.io/?EIO=4&transport=websocket"
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(ws_url)
    assert refused.value.status == 403


@pytest.mark.parametrize(("answer", "message"), [((None, False), "unauthorized"), (("x",), "")])
async def test_a_namespace_refusal_leaves_the_main_connection_up(io, servers, answer, message):
    io.set("authorization", allow)
    io.of("/admin").authorization(lambda hd, cb: cb(*answer))
    io.sockets.on("handshake", lambda socket: asyncio.sleep(0, "still here"))
    url = await servers.engine(io)
    async with python_client() as client:
        refused = asyncio.get_running_loop().create_future()
        client.on("connect_error", refused.set_result, namespace="/admin")
        await client.connect(url, namespaces=["/", "/admin"], wait=False)
        assert await asyncio.wait_for(refused, 3) == {"message": message}  # 0.9's reason, or ''
        await until(lambda: "/" in client.namespaces)
        assert await client.call("handshake", timeout=3) == "still here"
        assert "/" in client.namespaces and "/admin" not in client.namespaces


@pytest.mark.parametrize("case", [c for c in CASES if c.expected("legacy") not in USERS
                                  and c.namespace == "/"], ids=lambda c: c.id)
async def test_the_app_refuses_with_a_bare_403_whatever_the_reason(servers, tokens, case):
    url = await servers.app(LEGACY)
    query = urlencode(fill(case.query, tokens))
    status, _, body, _ = await get(f"{url}{HANDSHAKE}&{query}", **fill(case.headers, tokens))
    assert (status, body) == (403, "handshake unauthorized")


@pytest.mark.parametrize(
    ("query", "status", "authorized"),
    [("&sid=", 403, True),  # python-engineio reads a blank sid as none: a new session, gated
     ("&j=abc", 400, False), ("&EIO=3", 400, False)],  # not a handshake: engineio's 400 only
    ids=["blank-sid", "bad-jsonp-index", "second-eio"],
)
async def test_the_gate_sees_a_handshake_exactly_where_engineio_opens_a_session(
    io, servers, query, status, authorized
):
    calls = []
    io.set("authorization", lambda hd, cb: calls.append(hd) or cb(None, False))
    url = await servers.engine(io)
    assert (await get(url + HANDSHAKE + query))[0] == status
    assert bool(calls) is authorized
    assert not io.sio.eio.sockets
