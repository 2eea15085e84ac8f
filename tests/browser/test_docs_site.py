"""The built site in Chromium: linked tabs switch together, diagrams render, nothing external."""

from pathlib import Path

import pytest
from aiohttp import web

from tests.browser.conftest import hosts_contacted

pytestmark = pytest.mark.browser
SITE = Path(__file__).resolve().parents[2] / "site"


async def serve_file(request: web.Request) -> web.FileResponse:
    path = (SITE / request.match_info["path"]).resolve()
    if SITE not in path.parents and path != SITE:
        raise web.HTTPNotFound()
    if path.is_dir():
        path = path / "index.html"
    if not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path)


@pytest.fixture
async def site(servers):
    if not (SITE / "index.html").is_file():
        pytest.fail("no built site: run `make docs` first (`make test` does)")
    app = web.Application()
    app.router.add_get("/{path:.*}", serve_file)
    return await servers.serve(app)


async def test_before_and_after_tabs_switch_together(site, context):
    page = await context.new_page()
    await page.goto(site + "/migration-guide/")
    after = page.locator(".tabbed-labels label", has_text="1.0+: middleware")
    assert await after.count() >= 4
    await after.last.click()  # one that is not selected yet: the first may already be
    checked = await page.evaluate("""() => [...document.querySelectorAll('.tabbed-set')]
        .filter(set => [...set.querySelectorAll('.tabbed-labels label')]
            .some(label => label.textContent.trim() === '1.0+: middleware'))
        .map(set => {
            const labels = [...set.querySelectorAll('.tabbed-labels label')];
            const index = labels.findIndex(l => l.textContent.trim() === '1.0+: middleware');
            return set.querySelectorAll(':scope > input')[index].checked;
        })""")
    assert checked and all(checked), checked
    assert hosts_contacted(context.requests) == {"127.0.0.1"}


@pytest.mark.parametrize("path", ["/tutorial/legacy/", "/tutorial/middleware/"])
async def test_sequence_diagrams_render_offline(site, context, path):
    page = await context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    await page.goto(site + path)
    # Material replaces <pre class="mermaid"> with a <div class="mermaid"> holding the SVG
    await page.wait_for_selector("div.mermaid", timeout=10_000)
    box = await page.locator("div.mermaid").first.bounding_box()
    assert box and box["height"] > 200
    assert errors == []
    assert hosts_contacted(context.requests) == {"127.0.0.1"}
