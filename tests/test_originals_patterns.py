"""The patterns real 0.9 apps used, on the real packages, and their migration to 4.8:
passport.socketio 3.7.0 (``originals/v0.9/passport.js``) and Passport through ``io.engine.use``
(``originals/v4/passport.js``); socketio-jwt 4.6.2 (``originals/v0.9/jwt.js``), kept unchanged
on 4.8 (``originals/v4/jwt-kept.js``) and replaced by jsonwebtoken (``originals/v4/jwt.js``).
Also: an error inside either era's authorization refuses, and never ends Node."""

import json
import time
from urllib.parse import urlencode

import aiohttp
import pytest

from shared.policy.tokens import TokenIssuer
from tests.client09 import connect09
from tests.node import ROOT, NodeServer
from tests.node_clients import CONNECT, Seen, tampered
from tests.raw_client import raw_handshake
from tests.test_originals import run_node

SECRET = "patterns-test-secret-at-least-32-bytes"
ISSUER = TokenIssuer(SECRET.encode())
OTHER_KEY = TokenIssuer(b"some-other-secret-entirely-32-bytes-long")
NO_TOKEN = {"message": "no token provided", "code": "credentials_required",
            "type": "UnauthorizedError"}  # socketio-jwt's UnauthorizedError, as err.data


@pytest.fixture
def start():
    """``start(script)``: the script on an ephemeral port, stopped after the test."""
    running: list[NodeServer] = []

    def started(script: str) -> NodeServer:
        running.append(NodeServer(f"originals/{script}", env={"TOKEN_SECRET": SECRET}))
        return running[-1]

    yield started
    for server in running:
        server.stop()


async def passport_login(url: str, password: str = "wonderland",
                         origin: str | None = None) -> tuple[int, str | None]:
    headers = {"Origin": origin} if origin else {}
    async with aiohttp.ClientSession() as http, http.post(
            f"{url}/login", data={"username": "alice", "password": password},
            headers=headers) as answer:
        cookie = answer.headers.get("Set-Cookie")
        return answer.status, cookie.split(";")[0] if cookie else None


# ---- Passport -----------------------------------------------------------------------------
@pytest.mark.parametrize("app", ["v0.9/passport.js", "v4/passport.js"])
async def test_another_site_cannot_log_the_user_in_through_passport(start, app):
    """Login CSRF: another site's form posting the attacker's password would plant the
    attacker's session in the user's browser."""
    server = start(app)
    assert await passport_login(server.url, origin="http://evil.example") == (403, None)
    assert (await passport_login(server.url, origin=server.url))[0] == 200


@pytest.mark.parametrize("transport", ["polling", "websocket"])
async def test_passport_socketio_on_0_9_puts_the_user_on_socket_handshake(start, transport):
    server = start("v0.9/passport.js")
    assert await passport_login(server.url, "looking-glass") == (401, None)
    status, cookie = await passport_login(server.url)
    assert status == 200
    own = {"Origin": server.url}
    seen = await CONNECT["0.9"](server.url, {**own, "Cookie": cookie}, transport)
    assert seen.welcome == {"user": "alice", "role": "user", "server": "node-0.9"}
    for refused in [own, {**own, "Cookie": tampered(cookie)}]:  # 0.9: 403, no reason given
        assert await CONNECT["0.9"](server.url, refused, transport) == Seen(
            status=403, body="handshake unauthorized")
    foreign = {"Origin": "http://evil.example", "Cookie": cookie}
    assert (await CONNECT["0.9"](server.url, foreign, transport)).body == "handshake bad origin"


@pytest.mark.parametrize("transport", ["polling", "websocket"])
async def test_passport_on_4_8_puts_the_user_on_socket_request(start, transport):
    server = start("v4/passport.js")
    assert await passport_login(server.url, "looking-glass") == (401, None)
    status, cookie = await passport_login(server.url)
    assert status == 200
    own = {"Origin": server.url}
    seen = await CONNECT["4.8"](server.url, {**own, "Cookie": cookie}, transport)
    # socket.request.user is the user; socket.handshake.user, where 0.9 handlers read it, is not
    assert seen.welcome == {"user": "alice", "role": "user", "server": "node-4.8",
                            "handshakeUser": "undefined"}
    unauthorized = {"message": "unauthorized", "data": {"code": "missing_credentials"}}
    for refused in [own, {**own, "Cookie": tampered(cookie)}]:
        assert (await CONNECT["4.8"](server.url, refused, transport)).connect_error == (
            unauthorized)
    foreign = {"Origin": "http://evil.example", "Cookie": cookie}  # allowRequest: "Forbidden"
    forbidden = {"polling": 403, "websocket": 400}[transport]  # 400: a refused upgrade
    assert (await CONNECT["4.8"](server.url, foreign, transport)).status == forbidden


# ---- JWT libraries ------------------------------------------------------------------------
def token(issuer: TokenIssuer = ISSUER, **options) -> str:
    return issuer.issue("alice", "user", **options)


async def jwt09(server: NodeServer, *, query: dict | None = None,
                headers: dict | None = None) -> Seen:
    """The 0.9.16 client, with the token where it put it: the query (or a header)."""
    answer = await connect09(server.url, query=urlencode(query or {}), headers=headers)
    return Seen(answer.welcome, answer.status, answer.body)


async def test_socketio_jwt_on_0_9_reads_the_query_and_the_authorization_header(start):
    server = start("v0.9/jwt.js")
    welcome = {"user": "alice", "role": "user", "server": "node-0.9"}
    assert (await jwt09(server, query={"token": token()})).welcome == welcome
    bearer = {"Authorization": f"Bearer {token()}"}
    assert (await jwt09(server, headers=bearer)).welcome == welcome
    expired = token(now=time.time() - ISSUER.ttl_seconds - 60)
    for query in [{}, {"token": token(OTHER_KEY)}, {"token": expired}, {"token": "not-a-jwt"}]:
        assert await jwt09(server, query=query) == Seen(status=403,
                                                        body="handshake unauthorized")
    assert not server.crashed


async def test_socketio_jwt_kept_on_4_8_refuses_the_v4_client_s_auth_token(start):
    """What breaks if socketio-jwt stays: the v4 client's ``auth: {token}`` (what this site
    recommends) is refused "no token provided"; a query token still works, and the claims
    are on ``socket.decoded_token``, no longer on ``socket.handshake``."""
    server = start("v4/jwt-kept.js")
    refused = await raw_handshake(server.url, auth=json.dumps({"token": token()}))
    assert refused.connect_error == {"message": "no token provided", "data": NO_TOKEN}
    accepted = await raw_handshake(server.url, query=urlencode({"token": token()}))
    assert accepted.welcome == {"user": "alice", "role": "user", "server": "node-4.8",
                                "handshakeDecodedToken": "undefined"}


async def test_jsonwebtoken_in_io_use_on_4_8_reads_the_auth_payload(start):
    server = start("v4/jwt.js")
    accepted = await raw_handshake(server.url, auth=json.dumps({"token": token()}))
    assert accepted.welcome == {"user": "alice", "role": "user", "server": "node-4.8"}
    expired = token(now=time.time() - ISSUER.ttl_seconds - 60)
    refusals = {  # what the client sees in connect_error: jsonwebtoken's own messages
        json.dumps({}): ("no token provided", "credentials_required"),
        json.dumps({"token": token(OTHER_KEY)}): ("invalid signature", "invalid_token"),
        json.dumps({"token": expired}): ("jwt expired", "invalid_token"),
        json.dumps({"token": "not-a-jwt"}): ("jwt malformed", "invalid_token"),
    }
    for auth, (message, code) in refusals.items():
        answer = await raw_handshake(server.url, auth=auth)
        assert answer.connect_error == {"message": message, "data": {"code": code}}, auth
    in_query = await raw_handshake(server.url, query=urlencode({"token": token()}))
    assert in_query.connect_error["message"] == "no token provided"  # the URL is not read
    assert not server.crashed


# ---- a throw refuses ----------------------------------------------------------------------
# Each era's authorization, its policy made to fail: what the callback or next() receives.
THROWS_09 = """
const policy = require("./originals/policy");
const { authorization } = require("./originals/v0.9/auth");
policy.credentialsIn = () => { throw new Error("a bug in the carriers"); };
const handshakeData = { headers: {}, query: {}, address: { address: "127.0.0.1" } };
authorization(handshakeData, (err, authorized) => {
  console.log(JSON.stringify({ err: err && err.message, authorized }));
});
"""
THROWS_4 = """
const policy = require("./originals/policy");
const { authenticate } = require("./originals/v4/auth");
policy.authenticate = async () => { throw new Error("the store is down"); };
const socket = { handshake: { headers: {}, query: {}, auth: {} }, request: {}, data: {} };
authenticate(socket, (err) => {
  console.log(JSON.stringify({ message: err && err.message, data: err && err.data }));
});
"""


def test_an_error_in_0_9_authorization_is_a_handshake_error_not_a_crash():
    """callback(err): 0.9.19 answers 500 "handshake error" (tests/test_oracle_behaviours.py)."""
    run = run_node("-e", THROWS_09)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"err": "a bug in the carriers"}
    assert "authorization failed with an error: Error: a bug in the carriers" in run.stderr


def test_an_error_in_the_4_8_middleware_refuses_the_connection_not_the_process():
    run = run_node("-e", THROWS_4)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.splitlines()[-1]) == {
        "message": "Authorization failed", "data": {"code": "authorization_error"}}
    assert "authentication failed with an error: Error: the store is down" in run.stderr


# ---- the clients when the server goes away -------------------------------------------------
# Each prints what the real client did, deterministically; docs/nodejs.md includes the .out.txt.
CLIENT_DEMOS = [
    "originals/v0.9/client-options.js",  # 0.9.16: 'max reconnection attempts', then silence
    "originals/v4/client-options.js",  # 4.8: for ever by default; reconnect_failed on a limit
]


@pytest.mark.parametrize("script", CLIENT_DEMOS)
def test_the_client_transcript_is_the_committed_one(script):
    run = run_node(script)
    assert (run.returncode, run.stderr) == (0, "")
    assert run.stdout == (ROOT / script).with_suffix(".out.txt").read_text()

