"""Only a trusted proxy says who the client is and which scheme it used, and behind HAProxy
terminating TLS the server acts as an https server: the login's session cookie is
``__Host-session``, Secure, only the ``__Host-`` cookies are read, and the browser's https
Origin is its own. Real nodes, real
HAProxy, checked from outside."""

import re
import ssl
from contextlib import asynccontextmanager

import aiohttp
import pytest
import socketio

from tests.client import ISSUED, from_address, until
from tests.raw_client import RawAnswer, raw_handshake
from tests.test_cluster import (
    ALLOWANCE,
    Node,
    guesses,
    handshake_through,
    login,
    running_cluster,
)

PROXY = "127.0.0.2"  # the node's trusted proxy; a client on 127.0.0.1 is not it
HTTPS = {"X-Forwarded-Proto": "https"}
MISSING = "refused: missing_credentials (carriers: none)"


def refusal(impl, answer: RawAnswer) -> tuple:
    """The refusal as the era's client sees it: 0.9 an HTTP status, 1.0+ a connect_error."""
    if impl.id == "legacy":
        return answer.status, answer.body
    return answer.status, answer.connect_error


MISSING_SEEN = {"legacy": (403, "handshake unauthorized"),
                "middleware": (200, {"message": "Authentication required",
                                     "data": {"code": "missing_credentials"}})}


@pytest.fixture
async def tcp_node(impl, tmp_path):
    """A node still on a loopback TCP port, trusting the proxy at 127.0.0.2 only."""
    node = Node(impl, tmp_path / "node.log", ["--trust-proxy", PROXY])
    try:
        await node.ready()
        yield node
    finally:
        node.stop()


async def login_cookie(http: aiohttp.ClientSession, url: str, headers=None) -> tuple[str, str]:
    """A login as alice: the token, and the one Set-Cookie header of the answer (its session
    cookie's), without its ``expires`` date."""
    async with http.post(url + "/login", json={"username": "alice", "password": "wonderland"},
                         headers=headers or {}) as response:
        assert response.status == 200, await response.text()
        [cookie] = response.headers.getall("Set-Cookie")
        ISSUED.append(cookie.partition(";")[0].partition("=")[2])  # the session id: never logged
        return (await response.json())["token"], "; ".join(
            part for part in cookie.split("; ") if not part.startswith("expires="))


def cookie_line(name: str, cookie: str, secure: bool) -> str:
    """A session cookie named ``name`` as ``login_cookie`` returns it, whatever its id."""
    value = cookie.partition(";")[0].partition("=")[2]
    assert re.fullmatch("[0-9a-f]{32}", value), cookie
    return f"{name}={value}; HttpOnly; Max-Age=3600; Path=/; SameSite=Lax" + (
        "; Secure" if secure else "")


@asynccontextmanager
async def socketio_client(http: aiohttp.ClientSession, url: str, token: str, headers: dict):
    """A python-socketio client, connected over ``http`` (its source address) with ``token``."""
    client = socketio.AsyncClient(reconnection=False, handle_sigint=False, http_session=http)
    try:
        await client.connect(f"{url}?token={token}", headers=headers, wait_timeout=3)
        yield client
    finally:
        await client.shutdown()


# ---- a node on TCP believes its proxy only ------------------------------------------------
async def test_a_client_that_is_not_the_proxy_cannot_choose_its_address(tcp_node):
    async with from_address("127.0.0.1") as http:  # its forged addresses are ignored
        assert await guesses(http, tcp_node.url, ALLOWANCE + 1) == [401] * ALLOWANCE + [429]
    async with from_address(PROXY) as http:  # the proxy's are believed: each counts apart
        assert await guesses(http, tcp_node.url, ALLOWANCE + 1, start=100) == [401] * (
            ALLOWANCE + 1)


async def test_a_client_that_is_not_the_proxy_cannot_claim_https(tcp_node, impl):
    https_origin = {"Origin": tcp_node.url.replace("http:", "https:")}
    async with from_address("127.0.0.1") as http:
        token, cookie = await login_cookie(http, tcp_node.url, HTTPS)
        assert cookie == cookie_line("session", cookie, secure=False)
        answer = await raw_handshake(tcp_node.url, query=f"token={token}",
                                     headers={**HTTPS, **https_origin}, http=http)
        assert (answer.status, answer.body) == (403, "origin not allowed")
        answer = await raw_handshake(tcp_node.url, headers={
            **HTTPS, "Cookie": f"__Host-token={token}"}, http=http)
        assert refusal(impl, answer) == MISSING_SEEN[impl.id]  # not read over http
        async with socketio_client(http, tcp_node.url, token, HTTPS) as client:
            await until(lambda: client.transport() == "websocket")
            assert (await client.call("handshake", timeout=3))["secure"] is False
    async with from_address(PROXY) as http:
        token, cookie = await login_cookie(http, tcp_node.url, HTTPS)
        assert cookie == cookie_line("__Host-session", cookie, secure=True)
        answer = await raw_handshake(tcp_node.url, headers={
            **HTTPS, "Cookie": f"__Host-token={token}"}, http=http)
        assert answer.connected and answer.welcome["user"] == "alice"
        async with socketio_client(http, tcp_node.url, token, HTTPS) as client:
            await until(lambda: client.transport() == "websocket")  # the upgrade is https too
            assert (await client.call("handshake", timeout=3))["secure"] is True


# ---- behind HAProxy terminating TLS --------------------------------------------------------
class OverTls:
    """HAProxy's https port as a ``target`` (``url``, ``http()``), trusting its certificate."""

    def __init__(self, cluster):
        self.url = cluster.haproxy.tls_url
        self.context = ssl.create_default_context(cafile=cluster.haproxy.certificate)

    def http(self, **options) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=self.context), **options)


@pytest.fixture
async def tls_cluster(impl, tmp_path):
    async with running_cluster(impl, tmp_path, tls=True) as cluster:
        yield cluster


def logged(cluster, line: str) -> int:
    """How many times the nodes logged ``line``."""
    return sum(node.log.read_text().count(line) for node in cluster.nodes)


async def test_over_tls_the_login_cookie_is_host_only_and_secure(tls_cluster):
    https = OverTls(tls_cluster)
    async with https.http() as http:
        _, cookie = await login_cookie(http, https.url)
        assert cookie == cookie_line("__Host-session", cookie, secure=True)
        session_id = cookie.partition(";")[0].partition("=")[2]
        async with http.post(https.url + "/logout",
                             headers={"Cookie": f"session={session_id}"}) as out:
            assert out.status == 400  # the plain cookie is not read over https
        async with http.post(https.url + "/logout",
                             headers={"Cookie": f"__Host-session={session_id}"}) as out:
            assert (out.status, out.headers.getall("Set-Cookie")) == (200, [  # as it was set
                '__Host-session=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; '
                'Max-Age=0; Path=/; SameSite=Lax; Secure'])
    async with tls_cluster.http() as http:  # plain http: a client's own claim is dropped
        _, cookie = await login_cookie(http, tls_cluster.url, HTTPS)
        assert cookie == cookie_line("session", cookie, secure=False)


async def test_over_tls_only_the_host_cookie_is_read(tls_cluster, impl):
    https = OverTls(tls_cluster)
    token = await login(tls_cluster)
    plain_cookie = await handshake_through(https, headers={"Cookie": f"token={token}"})
    assert refusal(impl, plain_cookie) == MISSING_SEEN[impl.id]
    await until(lambda: logged(tls_cluster, MISSING) == 1)
    host_cookie = await handshake_through(https, headers={"Cookie": f"__Host-token={token}"})
    assert host_cookie.connected and host_cookie.welcome["user"] == "alice"
    over_http = await handshake_through(tls_cluster, headers={"Cookie": f"__Host-token={token}"})
    assert refusal(impl, over_http) == MISSING_SEEN[impl.id]
    await until(lambda: logged(tls_cluster, MISSING) == 2)


async def test_over_tls_the_https_origin_is_accepted_and_no_other(tls_cluster):
    https = OverTls(tls_cluster)
    token = await login(tls_cluster)
    own = await handshake_through(https, query=f"token={token}", headers={"Origin": https.url})
    assert own.connected and own.welcome["user"] == "alice"
    for foreign in ("https://evil.example", https.url.replace("https:", "http:"),
                    tls_cluster.url):
        answer = await handshake_through(https, query=f"token={token}",
                                         headers={"Origin": foreign})
        assert (answer.status, answer.body) == (403, "origin not allowed"), foreign
    plain = await handshake_through(tls_cluster, query=f"token={token}",
                                    headers={**HTTPS, "Origin": https.url.replace(
                                        str(tls_cluster.haproxy.tls_port),
                                        str(tls_cluster.haproxy.port))})
    assert (plain.status, plain.body) == (403, "origin not allowed")  # its claim was dropped
