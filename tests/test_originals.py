"""The JavaScript originals (``originals/``): their committed outputs, their ``/login`` tokens,
and ``originals/policy.js`` deciding every row of the handshake spec as
``shared/policy/decision.py``."""

import json
import logging
import os
import re
import subprocess
import urllib.error
import urllib.request

import pytest

from shared.policy import Refusal, credentials_in
from shared.policy.tokens import TokenIssuer
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


# Each prints what the real packages did, deterministically; the docs include the .out.txt.
DEMOS = [
    "originals/v4/as-middleware-demo.js",  # an unchanged 0.9 authorization in a 4.8 io.use chain
    "originals/v2/shim.js",  # 2.5.1's io.set('authorization') shim and the 2.x 'error' event
    "originals/v0.9/client-refused.js",  # 0.9.16 client: 403 stuck connecting, connect_failed
    "originals/v2/client-refused.js",  # 2.5.0 client: 'error', no retry, Engine.IO left open
    "originals/v2/namespaces.js",  # 2.5.1: io.use runs for a client of /admin only
    "originals/v4/io-set.js",  # 4.8 has no io.set: a 0.9 app's io.set('authorization') throws
    "originals/v4/client-refused.js",  # 4.8 client: connect_error, active false, auth function
    "originals/v4/old-clients.js",  # 0.9 / 2.x clients against 4.8 (allowEIO3), 4.8 against 0.9
    "originals/v4/cors.js",  # CORS headers: 0.9.19's '*:*' against 4.8's cors option
    "originals/v4/polling-payloads.js",  # 4.8 and polling POSTs no client sends; JSONP served
    "originals/v0.9/handshake-data.js",  # handshakeData; in place it is socket.handshake
    "originals/v4/handshake.js",  # socket.handshake; socket.data per socket and namespace
]


@pytest.mark.parametrize("script", DEMOS)
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
        verdict = await policy.authenticate(credentials_in(cases[-1]))
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


def http(method: str, url: str, body: bytes | None = None,
         origin: str | None = None) -> tuple[int, dict, str]:
    """Status, headers and body text, whatever the status."""
    headers = {"Content-Type": "application/json", **({"Origin": origin} if origin else {})}
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read().decode()


SESSION_COOKIE = re.compile(r"connect\.sid=s%3A[\w-]{32}\.[\w%]+; Path=/; Expires=[^;]+; "
                            r"HttpOnly; SameSite=Lax")


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
        # a session: its signed id, never the token (tests/test_originals_sessions.py)
        assert SESSION_COOKIE.fullmatch(headers["Set-Cookie"]), headers["Set-Cookie"]
    wrong = login(server.url, "alice", "looking-glass")
    assert status_and_body(wrong) == (401, {"error": "bad_credentials"})
    not_json = http("POST", f"{server.url}/login", b"not json")
    assert status_and_body(not_json) == (400, '{"error":"malformed_credentials"}')
    assert http("GET", f"{server.url}/login")[0] == 404
    assert server.refusals_after(0) == ["bad_credentials"]  # once its log line is through
    assert not server.crashed


def test_a_wrong_password_is_refused_in_each_era_s_own_words(app):
    era, server = app
    if era == "v0.9":  # the HTTP handshake: 403, the reason only in the server's log
        handshake = f"{server.url}/socket.io/1/?username=alice&password="
        # from the server's own page: with an `origins` list, 0.9 refuses a handshake without
        wrong = http("GET", f"{handshake}looking-glass", origin=server.url)
        assert status_and_body(wrong) == (403, "handshake unauthorized")
        status, _, body = http("GET", f"{handshake}wonderland", origin=server.url)
        assert status == 200
        assert body.endswith(":60:60:websocket,htmlfile,xhr-polling,jsonp-polling")
    else:  # Engine.IO opens, the Socket.IO CONNECT is refused with err.message and err.data
        base = f"{server.url}/socket.io/?EIO=4&transport=polling"
        opened = http("GET", f"{base}&username=alice&password=looking-glass")[2]
        polling = f"{base}&sid={json.loads(opened[1:])['sid']}"
        assert status_and_body(http("POST", polling, b"40")) == (200, "ok")
        assert http("GET", polling)[2] == (
            '44{"message":"Invalid credentials","data":{"code":"bad_credentials"}}')
    assert server.refusals_after(0) == ["bad_credentials"]


def from_origin(url: str, origin: str) -> tuple[int, str | None, str | None, str]:
    """Status, Access-Control-Allow-Origin, -Credentials and body of a GET from ``origin``."""
    request = urllib.request.Request(url, headers={"Origin": origin})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, headers, body = response.status, response.headers, ""
    except urllib.error.HTTPError as error:
        with error:
            status, headers, body = error.code, error.headers, error.read().decode()
    return (status, headers.get("Access-Control-Allow-Origin"),
            headers.get("Access-Control-Allow-Credentials"), body)


@pytest.mark.parametrize("era", list(APPS))
def test_allow_origin_is_each_era_s_own_cors(era):
    """--allow-origin: 0.9's `origins` setting refuses another page's handshake; so does 4.8's
    `allowRequest` (its `cors` option alone would serve it, without Access-Control-Allow-Origin)."""
    page, elsewhere = "http://page.example", "http://elsewhere.example"
    server = NodeServer(APPS[era], "--allow-origin", page, env={"TOKEN_SECRET": SECRET})
    try:
        if era == "v0.9":  # no credentials: refused, with 0.9's CORS headers
            handshake = f"{server.url}/socket.io/1/?t=0"
            assert from_origin(handshake, page) == (403, page, "true", "handshake unauthorized")
            assert from_origin(handshake, elsewhere) == (403, None, None, "handshake bad origin")
        else:  # Engine.IO opens for the page; the middleware decides later, on CONNECT
            handshake = f"{server.url}/socket.io/?EIO=4&transport=polling"
            assert from_origin(handshake, page)[:3] == (200, page, "true")
            assert from_origin(handshake, elsewhere)[:3] == (403, None, "true")
    finally:
        server.stop()


# A 0.9.19 server whose `origins` setting is argv[2] (JSON); prints the status of a handshake
# from each origin in argv[3].
ORIGINS_09 = """
const http = require("http");
const sio = require(process.env.SOCKET_IO_09);
const server = http.createServer();
const io = sio.listen(server, { log: false, "client store expiration": 0 });
io.set("origins", JSON.parse(process.argv[2]));
server.listen(0, "127.0.0.1", async () => {
  const statuses = [];
  for (const origin of JSON.parse(process.argv[3])) {
    statuses.push(await new Promise((resolve) => http.get({ host: "127.0.0.1",
      port: server.address().port, path: "/socket.io/1/?t=0", headers: { Origin: origin } },
      (res) => { res.resume(); resolve(res.statusCode); })));
  }
  console.log(JSON.stringify(statuses));
  server.close();
});
"""


@pytest.mark.parametrize(("origins", "d_example"), [("good.example:80", 200),
                                                     (["good.example:80"], 403)],
                         ids=["a-string", "an-array"])
def test_0_9_origins_as_a_string_lets_in_a_host_it_contains(origins, d_example, tmp_path):
    """0.9.19 searches `origins` with indexOf: in the string "good.example:80", "d.example:80"
    is found. originals/v0.9/app.js passes an array; the Python engine matches whole entries."""
    tried = ["http://good.example", "http://d.example", "http://evil.example"]
    script = tmp_path / "origins.js"  # a file: 0.9's client library needs a parent module
    script.write_text(ORIGINS_09)
    run = run_node(str(script), json.dumps(origins), json.dumps(tried),
                   env={"SOCKET_IO_09": str(ROOT / "originals/v0.9/node_modules/socket.io")})
    assert run.stderr == ""
    assert json.loads(run.stdout) == [200, d_example, 403]
