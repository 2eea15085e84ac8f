"""The JavaScript originals (``originals/``): their committed outputs, their ``/login`` tokens,
and ``originals/policy.js`` deciding every row of the handshake spec as ``shared/policy.py``."""

import json
import logging
import os
import subprocess
import urllib.error
import urllib.request

import pytest

from shared.policy import Refusal, credentials_in
from shared.tokens import TokenIssuer
from tests.cases import CASES
from tests.client import TEST_SECRET, fill, make_policy, mint_tokens
from tests.node import ROOT, NodeServer, require_node

SECRET = "originals-test-secret-at-least-32-bytes"
APPS = {"v0.9": "originals/v0.9/app.js", "v4": "originals/v4/app.js"}

# Reads cases (JSON) on stdin; prints the policy's log lines, then one line of verdicts.
DECIDE = """
const policy = require("./originals/policy");
let input = "";
process.stdin.on("data", (chunk) => (input += chunk)).on("end", async () => {
  const verdicts = [];
  for (const c of JSON.parse(input)) {
    let verdict = await policy.authenticate(policy.credentialsIn(c.query, c.headers, c.auth));
    if (!verdict.code) verdict = policy.authorizeNamespace(verdict, c.namespace) || verdict;
    verdicts.push(verdict.code || verdict.user);
  }
  console.log(JSON.stringify(verdicts));
});
"""


def run_node(*args: str, stdin: str = "", env: dict[str, str] | None = None):
    return subprocess.run([require_node(), *args], cwd=ROOT, input=stdin, capture_output=True,
                          text=True, timeout=30, env={**os.environ, **(env or {})}, check=False)


@pytest.mark.parametrize("script", ["originals/v4/as-middleware-demo.js", "originals/v2/shim.js"])
def test_output_is_the_committed_one(script):
    run = run_node(script)
    assert run.stderr == ""
    assert run.returncode == 0
    expected = (ROOT / script).with_suffix(".out.txt").read_text()
    assert run.stdout == expected


def node_query(pairs) -> dict:
    """A query as Node's ``querystring.parse`` gives it: a repeated name maps to a list."""
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        values.setdefault(name, []).append(value)
    return {name: found[0] if len(found) == 1 else found for name, found in values.items()}


async def test_policy_js_decides_every_case_as_python(caplog):
    """Same verdict, same refusal log lines; the tokens are Python's, verified by JavaScript."""
    caplog.set_level(logging.INFO, logger="handshake.policy")
    policy = make_policy()
    tokens = mint_tokens(policy.tokens)
    cases, expected = [], []
    for case in CASES:
        query = node_query(fill(case.query, tokens))
        headers = {name.lower(): value for name, value in fill(case.headers, tokens).items()}
        auth = fill(case.auth, tokens)
        cases.append({"query": query, "headers": headers, "auth": auth,
                      "namespace": case.namespace})
        verdict = await policy.authenticate(credentials_in(query, headers, auth))
        if not isinstance(verdict, Refusal):
            verdict = policy.authorize_namespace(verdict, case.namespace) or verdict
        expected.append(verdict.code if isinstance(verdict, Refusal) else verdict.user)
    python_log = [r.getMessage() for r in caplog.records if r.name == "handshake.policy"]

    run = run_node("-e", DECIDE, stdin=json.dumps(cases),
                   env={"TOKEN_SECRET": TEST_SECRET.decode()})
    assert run.stderr == ""
    *log, verdicts = run.stdout.splitlines()
    ids = [case.id for case in CASES]
    assert dict(zip(ids, json.loads(verdicts), strict=True)) == dict(
        zip(ids, expected, strict=True))
    assert log == python_log


@pytest.fixture(params=list(APPS), ids=list(APPS))
def app(request):
    require_node()
    server = NodeServer(APPS[request.param], env={"TOKEN_SECRET": SECRET})
    try:
        yield request.param, server
    finally:
        server.stop()


def http(method: str, url: str, body: bytes | None = None) -> tuple[int, dict, str]:
    """Status, headers and body text, whatever the status."""
    request = urllib.request.Request(url, data=body, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read().decode()


def login(url: str, username: str, password: str) -> tuple[int, dict, dict]:
    body = json.dumps({"username": username, "password": password}).encode()
    status, headers, text = http("POST", f"{url}/login", body)
    return status, headers, json.loads(text)


def status_and_body(answer: tuple) -> tuple:
    status, _, body = answer
    return status, body


def test_login_tokens_verify_in_python(app):
    _, server = app
    issuer = TokenIssuer(SECRET.encode())
    for user, password, role in [("alice", "wonderland", "user"), ("bob", "builder", "admin")]:
        status, headers, body = login(server.url, user, password)
        assert status == 200
        assert (body["user"], body["role"], body["expires_in"]) == (user, role, 900)
        claims = issuer.verify(body["token"])
        assert (claims["sub"], claims["role"], claims["exp"] - claims["iat"]) == (user, role, 900)
        assert headers["Set-Cookie"] == (f"token={body['token']}; HttpOnly; SameSite=Strict; "
                                         "Path=/; Max-Age=900")
    wrong = login(server.url, "alice", "looking-glass")
    assert status_and_body(wrong) == (401, {"error": "bad_credentials"})
    not_json = http("POST", f"{server.url}/login", b"not json")
    assert status_and_body(not_json) == (400, '{"error":"malformed_credentials"}')
    assert http("GET", f"{server.url}/login")[0] == 404
    server.wait_for_lines(2)  # "listening on", then one refusal
    assert server.refusal_codes() == ["bad_credentials"]
    assert not server.crashed


def test_a_wrong_password_is_refused_in_each_era_s_own_words(app):
    era, server = app
    if era == "v0.9":  # the HTTP handshake: 403, the reason only in the server's log
        handshake = f"{server.url}/socket.io/1/?username=alice&password="
        wrong = http("GET", f"{handshake}looking-glass")
        assert status_and_body(wrong) == (403, "handshake unauthorized")
        status, _, body = http("GET", f"{handshake}wonderland")
        assert status == 200
        assert body.endswith(":60:60:websocket,htmlfile,xhr-polling,jsonp-polling")
    else:  # Engine.IO opens, the Socket.IO CONNECT is refused with err.message and err.data
        base = f"{server.url}/socket.io/?EIO=4&transport=polling"
        opened = http("GET", f"{base}&username=alice&password=looking-glass")[2]
        polling = f"{base}&sid={json.loads(opened[1:])['sid']}"
        assert status_and_body(http("POST", polling, b"40")) == (200, "ok")
        assert http("GET", polling)[2] == (
            '44{"message":"Invalid credentials","data":{"code":"bad_credentials"}}')
    server.wait_for_lines(2)
    assert server.refusal_codes() == ["bad_credentials"]
