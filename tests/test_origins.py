"""Who may connect from where: origins, JSONP, hosts, security headers and static files."""


import aiohttp
import pytest
import yarl

from tests.cases import ALICE
from tests.client import try_login
from tests.raw_client import raw_handshake


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [("http://evil.example", False), ("null", False), ("http://page.example", True), (None, True)],
    ids=["foreign", "null", "allowed", "none-sent"],
)
async def test_only_the_servers_own_and_allowed_origins_may_connect(impl, servers, tokens,
                                                                   origin, allowed):
    url = await servers.app(impl, allowed_origins=["http://page.example"])
    headers = {"Origin": origin} if origin else {}
    answer = await raw_handshake(url, query=f"token={tokens[ALICE]}", headers=headers)
    assert answer.connected is allowed
    async with aiohttp.ClientSession() as http:
        ws_url = url + f"/socket.io/?EIO=4&transport=websocket&token={tokens[ALICE]}"
        if allowed:
            async with http.ws_connect(ws_url, headers=headers) as ws:
                assert (await ws.receive_str()).startswith("0{")
        else:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refusal:
                await http.ws_connect(ws_url, headers=headers)
            assert refusal.value.status == 403
        async with http.post(url + "/login", headers=headers,
                             json={"username": "alice", "password": "wonderland"}) as response:
            assert (response.status == 200) is allowed


async def test_jsonp_is_refused_before_authorization_runs(server, tokens, refusals):
    """A JSONP answer is a script any page may load, cookie and all: none is served."""
    async with aiohttp.ClientSession() as http, http.get(
            f"{server}/socket.io/?EIO=4&transport=polling&j=0&token={tokens[ALICE]}") as response:
        assert (response.status, await response.text()) == (400, "JSONP polling is disabled")
    assert refusals.codes == ["jsonp_disabled"]


@pytest.mark.parametrize("site", ["same-site", "cross-site"])
async def test_a_request_from_another_page_without_origin_is_refused(server, tokens, site):
    """What a ``<script>`` on another port (same site: the cookie rides along) or another
    site sends: no Origin, and the browser's Sec-Fetch-Site."""
    headers = {"Sec-Fetch-Site": site, "Sec-Fetch-Mode": "no-cors",
               "Cookie": f"token={tokens[ALICE]}"}
    answer = await raw_handshake(server, headers=headers)
    assert (answer.status, answer.body) == (403, "origin not allowed")
    assert (await try_login(server, "alice", "wonderland", headers=headers))[0] == 403
    answer = await raw_handshake(server, headers={**headers, "Sec-Fetch-Site": "same-origin"})
    assert answer.connected, "the server's own pages still connect"


async def test_a_host_name_the_server_does_not_answer_to_is_refused(server, tokens):
    """DNS rebinding: evil.example resolved to this server; its page is then same-origin
    with Host evil.example, and would connect with the user's cookie."""
    port = server.rsplit(":", 1)[1]
    headers = {"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"}
    answer = await raw_handshake(server, query=f"token={tokens[ALICE]}", headers=headers)
    assert (answer.status, answer.body) == (421, "unknown host")
    headers = {"Host": f"localhost:{port}", "Origin": f"http://localhost:{port}"}
    assert (await raw_handshake(server, query=f"token={tokens[ALICE]}", headers=headers)
            ).connected


async def test_pages_carry_a_content_security_policy_and_nosniff(server):
    async with aiohttp.ClientSession() as http:
        async with http.get(server + "/") as page:
            policy = page.headers["Content-Security-Policy"]
            assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
            assert page.headers["X-Content-Type-Options"] == "nosniff"
        async with http.get(server + "/static/client.js") as script:
            assert script.headers["X-Content-Type-Options"] == "nosniff"
        async with http.get(server + "/nothing-here") as missing:  # aiohttp's own answer
            assert missing.status == 404
            assert missing.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(("path", "status"), [
    ("/static/vendor", 403),  # a folder: aiohttp lists none
    ("/static/%2e%2e/app.py", 404), ("/static/..%2fapp.py", 404),
    ("/static/vendor/../../app.py", 404), ("/static/CLIENT.JS", 404)])
async def test_static_serves_its_folder_and_nothing_outside_it(server, path, status):
    async with aiohttp.ClientSession() as http:
        async with http.get(server + "/static/vendor/socket.io.min.js") as script:
            assert script.status == 200 and "javascript" in script.content_type
        async with http.get(yarl.URL(server + path, encoded=True)) as other:
            assert other.status == status, path
            assert other.headers["X-Content-Type-Options"] == "nosniff"


async def test_a_page_of_the_server_itself_is_same_origin(server, tokens):
    answer = await raw_handshake(server, query=f"token={tokens[ALICE]}",
                                 headers={"Origin": server})
    assert answer.connected
