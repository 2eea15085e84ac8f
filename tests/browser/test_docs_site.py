"""The built site in Chromium: linked tabs switch together, diagrams render, nothing external."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiohttp import web

from tests.browser.conftest import hosts_contacted

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "site"


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
    after = page.locator(".tabbed-labels label", has_text="1.0+: Python")
    assert await after.count() >= 4
    await after.last.click()  # one that is not selected yet: the first may already be
    checked = await page.evaluate("""() => [...document.querySelectorAll('.tabbed-set')]
        .filter(set => [...set.querySelectorAll('.tabbed-labels label')]
            .some(label => label.textContent.trim() === '1.0+: Python'))
        .map(set => {
            const labels = [...set.querySelectorAll('.tabbed-labels label')];
            const index = labels.findIndex(l => l.textContent.trim() === '1.0+: Python');
            return set.querySelectorAll(':scope > input')[index].checked;
        })""")
    assert checked and all(checked), checked
    assert hosts_contacted(context.requests) == {"127.0.0.1"}


# Each era's tabs carry one label on every page: the reader's choice follows them around
SELECTED = """label => [...document.querySelectorAll('.tabbed-set')]
    .filter(set => [...set.querySelectorAll('.tabbed-labels label')]
        .some(l => l.textContent.trim() === label))
    .map(set => {
        const labels = [...set.querySelectorAll('.tabbed-labels label')];
        const index = labels.findIndex(l => l.textContent.trim() === label);
        return set.querySelectorAll(':scope > input')[index].checked;
    })"""


@pytest.mark.parametrize(("label", "pages"), [
    ("1.0+: JavaScript (socket.io 4.8)",
     ["/tutorial/middleware/", "/nodejs/", "/original-thread/"]),
    ("0.9: JavaScript (socket.io 0.9.19)",
     ["/tutorial/legacy/", "/nodejs/", "/original-thread/"]),
])
async def test_a_javascript_tab_chosen_on_one_page_is_chosen_on_the_others(site, context,
                                                                            label, pages):
    page = await context.new_page()
    await page.goto(site + "/migration-guide/")
    await page.locator(".tabbed-labels label", has_text=label).first.click()
    for path in pages:
        await page.goto(site + path)
        chosen = await page.evaluate(SELECTED, label)
        assert chosen and all(chosen), (path, chosen)


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


def site_pages() -> list[str]:
    return sorted("/" if page.parent == SITE else f"/{page.parent.relative_to(SITE).as_posix()}/"
                  for page in SITE.rglob("index.html"))


REVEAL = """() => {  // every tab and every collapsed block, as if the reader opened them all
    document.querySelectorAll('details').forEach(details => { details.open = true; });
    const style = document.createElement('style');
    style.textContent = '.tabbed-content > .tabbed-block { display: block !important }';
    document.head.append(style);
}"""
CLIPPED = """() => [...document.querySelectorAll('pre > code')]
    .filter(code => code.scrollWidth > code.clientWidth)
    .map(code => code.textContent.split('\\n').find(line => line.length > 60) || '')"""


@pytest.mark.timeout(120)
@pytest.mark.parametrize("width", [1280, 390])
async def test_no_code_block_is_clipped_at_desktop_or_phone_width(site, browser, width):
    context = await browser.new_context(viewport={"width": width, "height": 900})
    page = await context.new_page()
    clipped, blocks = {}, 0
    try:
        for path in site_pages():
            await page.goto(site + path)
            await page.evaluate(REVEAL)
            blocks += await page.locator("pre > code").count()
            if found := await page.evaluate(CLIPPED):
                clipped[path] = [line.strip()[:70] for line in found]
    finally:
        await context.close()
    assert blocks > 50
    assert clipped == {}, f"{sum(map(len, clipped.values()))} of {blocks} blocks clipped"


ISSUE_REFERENCE = (r"(socket\.io-client|socket\.io|socketio-jwt|passport\.socketio|python-socketio)"
                   r"( PR)? ?#\d+")
UNLINKED = """pattern => {
    const walker = document.createTreeWalker(document.querySelector('.md-content'),
                                             NodeFilter.SHOW_TEXT);
    const found = [];
    while (walker.nextNode()) {
        const node = walker.currentNode;
        if (node.parentElement.closest('a, code, pre')) continue;
        found.push(...(node.textContent.match(new RegExp(pattern, 'g')) || []));
    }
    return found;
}"""
OUTSIDE_LINKS = """() => [...document.querySelectorAll('.md-content a[href^="http"]')]
    .map(a => a.href)"""


async def test_every_issue_reference_is_a_link_and_every_page_links_the_official_docs(
    site, context
):
    page = await context.new_page()
    unlinked, without_docs, issue_links, own_repository = {}, [], 0, []
    for path in site_pages():
        await page.goto(site + path)
        # the project has no public repository yet: no link (the header's included) to one
        own_repository += await page.evaluate(
            """() => [...document.querySelectorAll('a[href*="github.com/socketio-handshake-auth"]')]
                .map(a => a.href)""")
        if found := await page.evaluate(UNLINKED, ISSUE_REFERENCE):
            unlinked[path] = found
        links = await page.evaluate(OUTSIDE_LINKS)
        issue_links += sum(link.startswith("https://github.com/")
                           and ("/issues/" in link or "/pull/" in link) for link in links)
        if not any(link.startswith(("https://socket.io/docs/",
                                    "https://python-socketio.readthedocs.io/"))
                   for link in links):
            without_docs.append(path)
    assert unlinked == {}
    assert without_docs == []
    assert own_repository == []
    assert issue_links >= 20
    assert hosts_contacted(context.requests) == {"127.0.0.1"}  # links, never requests


async def test_identifiers_in_tables_break_at_separators_only(site, context):
    page = await context.new_page()
    await page.goto(site + "/reference/behaviours/")
    styles = await page.evaluate("""() => [...document.querySelectorAll('td code')].map(code => {
        const style = getComputedStyle(code);
        return [style.wordBreak, style.overflowWrap, code.querySelectorAll('wbr').length];
    })""")
    assert styles and all(style[:2] == ["normal", "normal"] for style in styles)
    assert sum(style[2] for style in styles) > 100  # test_names_like_this break after "_"


def git(*args: str) -> list[str]:
    out = subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True).stdout
    return [name for name in out.decode().split("\0") if name]


@pytest.mark.timeout(180)
def test_a_fresh_checkout_builds_with_strict_without_make_docs(tmp_path):
    """``git clone``, plus the working tree's uncommitted changes (what the next commit holds),
    then ``mkdocs build --strict``: no docs/generated, no site/, no node_modules; the hooks
    write what the pages include."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    for name in git("ls-files", "-z", "--modified", "--others", "--exclude-standard"):
        if (ROOT / name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, clone / name)
    for name in git("ls-files", "-z", "--deleted"):
        (clone / name).unlink(missing_ok=True)
    assert not (clone / "docs" / "generated").exists()
    started = time.monotonic()
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
         "--site-dir", str(tmp_path / "site")],
        cwd=clone, capture_output=True, text=True, timeout=150,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert build.returncode == 0, build.stderr[-3000:]
    assert time.monotonic() - started < 60
    parity = (tmp_path / "site" / "reference" / "parity" / "index.html").read_text()
    assert "decided the same" in parity
    performance = (tmp_path / "site" / "reference" / "performance" / "index.html").read_text()
    # the targets table, which the hook renders from bench/results/latest.json
    assert "CPU per accepted handshake over the native pattern" in performance
