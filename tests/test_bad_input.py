"""Bad input and broken code: a clear refusal, never an accept, and the server keeps serving."""

import asyncio
import json

import aiohttp
import pytest

from shared.policy.session_store import SessionStore
from shared.policy.tokens import TokenIssuer
from tests.cases import ALICE
from tests.client import TEST_SECRET
from tests.raw_client import raw_handshake

MALFORMED = {"message": "Malformed credentials", "data": {"code": "malformed_credentials"}}

# --8<-- [start:bad-input]
BAD_INPUT = {
    "query-over-the-size-limit": {"query": "token=" + "a" * 9000},
    "header-over-the-size-limit": {"headers": {"X-Padding": "b" * 9000}},
    "invalid-percent-encoding": {"query": "token=%zz%"},
    "invalid-utf8": {"query": "username=alice&password=%ff%fe%fd"},
    "duplicate-keys": {"query": "token=<alice>&token=not-a-jwt"},  # 4.8 reads the last
    "malformed-cookie-header": {"headers": {"Cookie": "token"}},
    "auth-not-an-object": {"auth": "[1, 2, 3]"},
    "auth-not-json": {"auth": '{"token": '},
    "auth-deeply-nested": {"auth": '{"token": ' + "[" * 5000 + "]" * 5000 + "}"},
    "auth-huge": {"auth": json.dumps({"token": "x" * 100_000})},
    "token-of-the-wrong-type": {"auth": '{"token": 42}'},
    "password-of-the-wrong-type": {"auth": '{"username": "alice", "password": ["w"]}'},
}
# --8<-- [end:bad-input]

# What each era answers: an HTTP status (0.9 refuses on the handshake, and says no more than
# 403 "handshake unauthorized"; 0.9 never reads ``auth``), or the 1.0+ ``connect_error`` code.
UNAUTHORIZED = 403
ANSWERS = {  # name: (legacy, middleware)
    "query-over-the-size-limit": (400, 400),  # aiohttp's request-line limit, before any app code
    "header-over-the-size-limit": (400, 400),
    "invalid-percent-encoding": (UNAUTHORIZED, "malformed_credentials"),
    "invalid-utf8": (UNAUTHORIZED, "bad_credentials"),  # decoded with U+FFFD: a wrong password
    "duplicate-keys": (UNAUTHORIZED, "malformed_credentials"),
    "malformed-cookie-header": (UNAUTHORIZED, "malformed_credentials"),
    "auth-not-an-object": (UNAUTHORIZED, "malformed_credentials"),
    "auth-not-json": (UNAUTHORIZED, "malformed_credentials"),
    "auth-deeply-nested": (UNAUTHORIZED, "malformed_credentials"),
    "auth-huge": (UNAUTHORIZED, 413),  # over python-engineio's max_http_buffer_size
    "token-of-the-wrong-type": (UNAUTHORIZED, "malformed_credentials"),
    "password-of-the-wrong-type": (UNAUTHORIZED, "malformed_credentials"),
}


def answer_of(answer) -> int | str:
    """The refusal as ``ANSWERS`` writes it."""
    if answer.connect_error is not None:
        return answer.connect_error["data"]["code"]
    assert not answer.connected, answer
    if answer.status == UNAUTHORIZED:
        assert answer.body == "handshake unauthorized"
    return answer.status


@pytest.mark.parametrize("name", BAD_INPUT)
async def test_bad_input_is_refused_and_the_server_keeps_serving(impl, server, tokens, name):
    bad = {key: value.replace("<alice>", tokens[ALICE]) if isinstance(value, str) else value
           for key, value in BAD_INPUT[name].items()}
    answer = await asyncio.wait_for(raw_handshake(server, **bad), 10)
    legacy, middleware = ANSWERS[name]
    assert answer_of(answer) == (legacy if impl.id == "legacy" else middleware), answer
    after = await raw_handshake(server, query=f"token={tokens[ALICE]}")
    assert after.connected


async def test_undecodable_auth_next_to_a_valid_query_token_is_still_refused(server, tokens):
    """The legacy server ignores ``auth``, but a packet it cannot decode is never accepted."""
    answer = await raw_handshake(server, query=f"token={tokens[ALICE]}", auth='{"token": ')
    assert answer.connect_error == MALFORMED


@pytest.mark.parametrize(
    "body", [b"{" + b" " * 70_000 + b"}",  # over /login's 4 KiB: refused unread
             b'{"username": "alice", "password": ' + b"[" * 5000],
    ids=["oversized", "deeply-nested"])
async def test_login_with_hostile_bodies_is_400_and_the_server_keeps_serving(server, body):
    async with aiohttp.ClientSession() as http:
        async with http.post(server + "/login", data=body,
                             headers={"Content-Type": "application/json"}) as response:
            assert response.status == 400
        async with http.post(server + "/login",
                             json={"username": "alice", "password": "wonderland"}) as response:
            assert response.status == 200


class BrokenPolicy:
    """A policy with a bug: every decision raises."""

    tokens = TokenIssuer(TEST_SECRET)
    sessions = SessionStore.in_memory()
    trusted_proxies = frozenset()
    max_sessions_per_address = 50

    def client(self, peer, headers):
        return peer

    async def authenticate(self, presented, *, client=""):
        raise RuntimeError("policy bug")


async def test_a_policy_error_is_a_logged_refusal_never_an_accept(servers, tokens, impl,
                                                                  caplog):
    servers.policy = BrokenPolicy()
    url = await servers.app(impl)
    answer = await raw_handshake(url, query=f"token={tokens[ALICE]}")
    if impl.id == "legacy":  # 0.9's answer to an authorization error
        assert (answer.status, answer.body) == (500, "handshake error")
    else:
        assert answer.connect_error == {"message": "Authorization failed"}
    assert "policy bug" in caplog.text


async def test_an_undecodable_credential_is_a_clean_refusal(impl, server, caplog):
    for auth in ('{"token": "\\ud800"}', '{"username": "alice", "password": "\\udfff"}'):
        answer = await raw_handshake(server, auth=auth)
        if impl.id == "legacy":  # 0.9 reads no auth payload: no credential at all
            assert (answer.status, answer.body) == (403, "handshake unauthorized")
        else:
            assert answer.connect_error == MALFORMED
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.exc_info], "no traceback for bad input"
