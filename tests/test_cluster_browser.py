"""What ``make demo-cluster`` serves, in real Chromium: the side-by-side page on its own origin,
each pane talking to HAProxy in front of two nodes. The browser polls first and then upgrades,
cross-origin and (but for the cookie carrier) without credentials: HAProxy must keep every
request of a session on one node without any cookie of its own. Over TLS, a server's own page
through HAProxy logs in with a ``__Host-`` session cookie and connects with it."""

import json

import pytest

from shared.webapp import side_by_side
from tests.browser.conftest import (  # noqa: F401 (browser, context: fixtures)
    browser,
    context,
    reserve_port,
    serve_foreign_page,
    until_true_in_page,
)
from tests.implementations import IMPLEMENTATIONS
from tests.test_cluster import RedisServer, running_cluster

pytestmark = pytest.mark.browser
PANES = {impl.id: impl for impl in IMPLEMENTATIONS}
ENGINE = """(name) => {
  const socket = handshakeDemo.panes.get(name).socket;
  const engine = socket && socket.io.engine;
  return engine && engine.id ? [engine.id, engine.transport.name] : null;
}"""


@pytest.mark.parametrize("carrier", ["query-password", "cookie"])
async def test_the_side_by_side_page_works_through_haproxy(servers, context, tmp_path,  # noqa: F811
                                                           carrier):
    sock = reserve_port()
    page_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    # one Redis for both styles' nodes, as make demo-cluster runs them: the browser holds one
    # session cookie for 127.0.0.1, and both clusters must know the session it names
    redis = RedisServer(tmp_path)
    await redis.start()
    try:
        await see_the_page_through_haproxy(servers, context, tmp_path, carrier, sock, page_url,
                                           redis)
    finally:
        redis.stop()


async def see_the_page_through_haproxy(servers, context, tmp_path, carrier, sock, page_url,  # noqa: F811
                                       redis):
    async with running_cluster(PANES["legacy"], tmp_path / "legacy", [page_url],
                               shared_redis=redis) as legacy, \
            running_cluster(PANES["middleware"], tmp_path / "middleware", [page_url],
                            shared_redis=redis) as middle:
        clusters = {"legacy": legacy, "middleware": middle}
        await servers.serve(side_by_side.create_app(legacy=legacy.url, middleware=middle.url),
                            sock=sock)
        page = await context.new_page()
        await page.goto(page_url + "/")
        await page.select_option("#carrier", carrier)
        for _ in range(2):
            await page.click("text=Connect both")
            for name, cluster in clusters.items():
                await until_true_in_page(page, f"({ENGINE})('{name}')?.[1] === 'websocket'")
                sid, _ = await page.evaluate(ENGINE, name)
                assert cluster.haproxy.node_of(sid) in [node.address for node in cluster.nodes]
                verdict = await page.text_content(f"[data-pane={name}] .verdict")
                assert verdict == "Accepted as alice (user)"
                steps = await page.text_content(f"[data-pane={name}] .steps")
                assert steps.count("Engine.IO open") == 1 and "retrying" not in steps
        assert "io" not in {cookie["name"] for cookie in await context.cookies()}


FOREIGN = """<!doctype html><title>another origin</title><body><script>
  window.results = {};
  const server = "SERVER";
  fetch(server + "/socket.io/?EIO=4&transport=polling", {credentials: "include"})
    .then(answer => { window.results.polling = answer.status; },
          () => { window.results.polling = "refused"; });
  const socket = new WebSocket(server.replace("https:", "wss:") +
                               "/socket.io/?EIO=4&transport=websocket");
  socket.onopen = () => { window.results.websocket = "open"; };
  socket.onerror = () => { window.results.websocket = window.results.websocket || "refused"; };
</script></body>"""


async def test_over_tls_the_page_logs_in_with_a_host_only_secure_cookie_and_connects(
        impl, browser, servers, tmp_path):  # noqa: F811
    async with running_cluster(impl, tmp_path, tls=True) as cluster:
        https = cluster.haproxy.tls_url
        context = await browser.new_context(ignore_https_errors=True)  # a self-signed cert
        try:
            page = await context.new_page()
            await page.goto(https + "/")
            await page.select_option("#carrier", "cookie")  # log in, then send only the cookie
            await page.click("button[type=submit]")
            await until_true_in_page(page, "document.querySelector('.verdict').dataset.accepted")
            assert await page.text_content(".verdict") == "Accepted as alice (user)"
            assert json.loads(await page.text_content(".welcome"))["user"] == "alice"
            assert await page.text_content(".source") == (
                "Identity from: the session cookie POST /login just set for alice.")
            assert [(c["name"], c["domain"], c["path"], c["secure"], c["httpOnly"],
                     c["sameSite"]) for c in await context.cookies()] == [
                ("__Host-session", "127.0.0.1", "/", True, True, "Lax")]

            # a page on another origin may not connect, even over TLS
            foreign = await serve_foreign_page(servers, FOREIGN.replace("SERVER", https))
            other = await context.new_page()
            await other.goto(foreign + "/")
            await until_true_in_page(other, "Object.keys(window.results).length === 2")
            assert await other.evaluate("window.results") == {
                "polling": "refused", "websocket": "refused"}
            refused = f"refused origin {foreign} on /socket.io/"
            assert sum(node.log.read_text().count(refused) for node in cluster.nodes) == 2
        finally:
            await context.close()
