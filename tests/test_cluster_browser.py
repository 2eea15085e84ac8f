"""What ``make demo-cluster`` serves, in real Chromium: the side-by-side page on its own origin,
each pane talking to HAProxy in front of two nodes. The browser polls first and then upgrades,
cross-origin and (but for the cookie carrier) without credentials: HAProxy must keep every
request of a session on one node without any cookie of its own."""

import pytest

from shared.webapp import side_by_side
from tests.browser.conftest import (  # noqa: F401 (browser, context: fixtures)
    browser,
    context,
    reserve_port,
    until_true_in_page,
)
from tests.implementations import IMPLEMENTATIONS
from tests.test_cluster import running_cluster

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
    async with running_cluster(PANES["legacy"], tmp_path / "legacy", [page_url]) as legacy, \
            running_cluster(PANES["middleware"], tmp_path / "middleware", [page_url]) as middle:
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
