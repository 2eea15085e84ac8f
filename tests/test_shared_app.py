"""The demo contract both servers keep: /login, welcome, the handshake event, the pages, logs."""

import logging
import re

import aiohttp
import pytest

from tests.cases import ALICE
from tests.client import python_client, until


async def post_login(url: str, **kwargs) -> tuple[int, dict, aiohttp.ClientResponse]:
    async with aiohttp.ClientSession() as http, http.post(url + "/login", **kwargs) as response:
        return response.status, await response.json(), response


@pytest.mark.parametrize("body", [{"json": {"username": "bob", "password": "builder"}},
                                  {"data": {"username": "bob", "password": "builder"}}],
                         ids=["json", "form"])
async def test_login_returns_a_token_and_sets_a_session_cookie_only(server, policy, body):
    status, answer, response = await post_login(server, **body)
    assert status == 200
    assert policy.tokens.verify(answer["token"])["sub"] == "bob"
    assert (answer["user"], answer["role"]) == ("bob", "admin")
    assert list(response.cookies) == ["session"]  # no token cookie: the session is the cookie
    cookie = response.cookies["session"]
    assert re.fullmatch("[0-9a-f]{32}", cookie.value)  # a random id, no claims
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    assert cookie["max-age"] == str(policy.sessions.ttl) and not cookie["secure"]


@pytest.mark.parametrize(
    "credentials",
    [{"username": "alice", "password": "nope"}, {"username": "nobody", "password": "wonderland"}],
)
async def test_login_with_bad_credentials_is_401(server, credentials):
    status, body, response = await post_login(server, json=credentials)
    assert (status, body) == (401, {"error": "bad_credentials"})
    assert not response.cookies


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'{"username": "alice"}', b'{"username": 1, "password": 2}',
     b'{"username": "", "password": ""}', b"\xff\xfe", b"{" + b" " * 5000 + b"}",
     b'{"username": "alice", "password": "\\ud800x"}',
     b'{"username": "alice", "password": "' + b"w" * 2049 + b'"}'],
    ids=["not-json", "not-an-object", "missing-password", "not-strings", "empty", "not-utf8",
         "oversized", "lone-surrogate", "too-long"],
)
async def test_login_with_a_malformed_body_is_400(server, body):
    status, answer, _ = await post_login(
        server, data=body, headers={"Content-Type": "application/json"})
    assert (status, answer) == (400, {"error": "malformed_credentials"})


async def test_the_token_from_login_opens_a_socket_that_is_welcomed(impl, server):
    _, body, _ = await post_login(server, json={"username": "alice", "password": "wonderland"})
    async with python_client() as client:
        welcomes = []
        client.on("welcome", welcomes.append)
        await client.connect(server, headers={"Authorization": f"Bearer {body['token']}"},
                             wait_timeout=3)
        await until(lambda: welcomes)
        assert welcomes == [{"user": "alice", "role": "user", "server": impl.id}]
        handshake = await client.call("handshake", timeout=3)
    assert handshake["headers"]["authorization"] == "[redacted]"
    assert body["token"] not in str(handshake)


async def test_the_handshake_event_shows_each_era_its_own_handshake(impl, server, tokens):
    from tests.cases import ALICE

    async with python_client() as client:
        await client.connect(f"{server}?token={tokens[ALICE]}", wait_timeout=3)
        handshake = await client.call("handshake", timeout=3)
    assert handshake["query"]["token"] == "[redacted]"
    assert tokens[ALICE] not in str(handshake)
    assert tuple(handshake) == impl.handshake_keys


async def test_each_server_serves_its_page(impl, server):
    async with aiohttp.ClientSession() as http, http.get(server + "/") as response:
        page = await response.text()
    assert response.status == 200
    assert f"<title>{impl.title}</title>" in page


async def test_the_access_log_shows_where_credentials_were_redacted(server, tokens, caplog):
    """That nothing secret is logged, the autouse ``no_secret_in_any_log`` checks in every
    test; this one checks what the log keeps: the names, with their values redacted."""
    caplog.set_level(logging.DEBUG)
    async with python_client() as client:
        await client.connect(f"{server}?username=alice&password=wonderland", wait_timeout=3)
    async with python_client() as client:
        await client.connect(f"{server}?token={tokens[ALICE]}", wait_timeout=3)
    await post_login(server, json={"username": "alice", "password": "wonderland"})
    assert "GET /socket.io/?username=[redacted]&password=[redacted]" in caplog.text
    assert "GET /socket.io/?token=[redacted]" in caplog.text
