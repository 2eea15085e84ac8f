"""The side-by-side demo as a reader meets it, in real Chromium against real servers.

Every flow of issue #13: an identity is never shown without where it came from (the session
cookie a failed login leaves behind), Log out, Disconnect resets both panes, every button works
in every state, a server that is down or never answers fails visibly within seconds, and each
pane tells what its era's server did, in that era's terms.
"""

import os
import socket
import time
from pathlib import Path

import pytest

from shared.webapp import side_by_side
from tests.browser.conftest import ARTIFACTS, hosts_contacted, reserve_port, until_true_in_page
from tests.implementations import IMPLEMENTATIONS

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "assets" / "side-by-side.png"
PANES = ("legacy", "middleware")


async def start_demo(servers, **urls) -> str:
    """The page on its own origin, as `make demo` runs it; each pane's server is a real one,
    unless ``urls`` names another address for it (a server that is down, or never answers)."""
    sock = reserve_port()
    page_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    for impl in IMPLEMENTATIONS:
        name = impl.id
        if name not in urls:
            urls[name] = await servers.app(impl, allowed_origins=[page_url])
    await servers.serve(side_by_side.create_app(**urls), sock=sock)
    return page_url


@pytest.fixture
async def demo(servers) -> str:
    return await start_demo(servers)


@pytest.fixture
async def page_of(context):
    """Open a page and collect every uncaught error and unhandled rejection it raises."""
    pages = []

    async def open_page(url: str):
        page = await context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(error))
        await page.goto(url + "/")
        pages.append(page)
        return page

    yield open_page
    for page in pages:
        assert page.errors == [], page.errors


async def settled(page) -> dict[str, str]:
    """Both verdicts, once each pane has one."""
    await until_true_in_page(
        page, "[...document.querySelectorAll('.verdict')].every(v => v.dataset.accepted)")
    return await texts(page, ".verdict")


async def texts(page, selector: str) -> dict[str, str]:
    return {name: (await page.text_content(f"[data-pane={name}] {selector}")).strip()
            for name in PANES}


async def connect_both(page, username: str, password: str, carrier: str,
                       namespace: str = "/") -> dict[str, str]:
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.select_option("#carrier", carrier)
    await page.select_option("#namespace", namespace)
    await page.get_by_role("button", name="Connect both").click()
    return await settled(page)


async def test_a_failed_login_never_shows_the_cookie_s_user_without_saying_where_it_came_from(
    demo, page_of
):
    page = await page_of(demo)
    bob = "Accepted as bob (admin)"
    assert await connect_both(page, "bob", "builder", "cookie") == {"legacy": bob,
                                                                   "middleware": bob}
    assert set((await texts(page, ".source")).values()) == {
        "Identity from: the session cookie POST /login just set for bob."}
    await page.get_by_role("button", name="Disconnect").click()

    # A wrong user and password: /login refuses them, the browser still sends bob's cookie.
    assert await connect_both(page, "mallory", "guess", "cookie") == {"legacy": bob,
                                                                     "middleware": bob}
    for name, source in (await texts(page, ".source")).items():
        assert source.startswith("Not what you typed: POST /login refused “mallory”, but the "
                                 "browser still holds the session cookie of an earlier login as "
                                 "bob"), (name, source)
        assert await page.get_attribute(f"[data-pane={name}] .source", "data-warning") == "true"
    cookie_line = await page.text_content("[data-pane=legacy] .cookie")
    assert cookie_line.startswith("bob (admin), set by POST /login at ")

    # Log out ends the cookie's session on the servers and clears it: nothing is left to send.
    await page.get_by_role("button", name="Log out", exact=True).click()
    await until_true_in_page(page, """[...document.querySelectorAll('.verdict')]
        .every(v => v.textContent.startsWith('Logged out'))""")
    assert set((await texts(page, ".cookie")).values()) == {"none set by this page"}
    assert await connect_both(page, "mallory", "guess", "cookie") == {
        "legacy": "Refused: HTTP 403 handshake unauthorized",
        "middleware": "Refused: Authentication required (missing_credentials)",
    }
    assert set((await texts(page, ".source")).values()) == {""}


async def test_log_out_everywhere_ends_the_user_s_sessions_in_every_browser(demo, page_of,
                                                                          browser):
    """Two browsers of alice's, one connected with her password, one with the session cookie:
    Log out everywhere in one ends both, in both panes; the cookie's session is refused after."""
    alice = {"legacy": "Accepted as alice (user)", "middleware": "Accepted as alice (user)"}
    other_device = await browser.new_context()
    try:
        other = await other_device.new_page()
        await other.goto(demo + "/")
        assert await connect_both(other, "alice", "wonderland", "query-password") == alice
        page = await page_of(demo)
        assert await connect_both(page, "alice", "wonderland", "cookie") == alice
        await page.get_by_role("button", name="Log out everywhere").click()
        await until_true_in_page(page, """[...document.querySelectorAll('.verdict')]
            .every(v => v.textContent.startsWith('Logged out everywhere'))""")
        await until_true_in_page(other, """[...document.querySelectorAll('.verdict')]
            .every(v => v.textContent.startsWith('Session ended: Logged out everywhere'))""")
        assert await connect_both(page, "alice", "nope", "cookie") == {
            "legacy": "Refused: HTTP 403 handshake unauthorized",
            "middleware": "Refused: Logged out everywhere (logged_out)"}
    finally:
        await other_device.close()


async def test_on_a_server_s_own_page_the_cookie_travels_whatever_the_carrier(impl, server,
                                                                              page_of):
    """Same-origin requests always carry the cookie: a failed login with the query-token
    carrier still connects as the cookie's user, and the pane says so."""
    page = await page_of(server)
    verdict = page.locator(".verdict")
    await page.fill("#username", "bob")
    await page.fill("#password", "builder")
    await page.select_option("#carrier", "cookie")
    await page.get_by_role("button", name="Connect", exact=True).click()
    await verdict.filter(has_text="Accepted as bob (admin)").wait_for(timeout=5_000)
    await page.fill("#password", "wrong")
    await page.select_option("#carrier", "query-token")
    await page.get_by_role("button", name="Connect", exact=True).click()
    await page.locator(".source[data-warning=true]").wait_for(timeout=5_000)
    assert await verdict.text_content() == "Accepted as bob (admin)"
    assert (await page.text_content(".source")).startswith(
        "Not what you typed: POST /login refused “bob”, but the browser still holds the "
        "session cookie of an earlier login as bob")


async def test_log_out_in_one_tab_ends_the_socket_another_tab_opened_with_that_session(
    impl, server, page_of
):
    """On a server's own page: the tab that logs out ends the cookie's session, and the server
    ends the live socket an older tab opened with it."""
    older = await page_of(server)
    await older.select_option("#carrier", "cookie")
    await older.get_by_role("button", name="Connect", exact=True).click()
    verdict = older.locator(".verdict")
    await verdict.filter(has_text="Accepted as alice (user)").wait_for(timeout=5_000)
    page = await page_of(server)
    await page.get_by_role("button", name="Log out", exact=True).click()
    await verdict.filter(has_text="Session ended: Session expired or unknown").wait_for(
        timeout=5_000)
    assert await page.text_content(".verdict") == (
        "Logged out: the session is ended on the server, its cookie cleared")
    story = await older.text_content(".story")
    assert {"legacy": "0.9's authorization ran once, on the handshake",
            "middleware": "Middlewares run once per CONNECT"}[impl.id] in story


async def test_disconnect_resets_both_panes(demo, page_of):
    page = await page_of(demo)
    alice = "Accepted as alice (user)"
    assert await connect_both(page, "alice", "wonderland", "query-password") == {
        "legacy": alice, "middleware": alice}
    await page.get_by_role("button", name="Disconnect").click()
    assert await texts(page, ".verdict") == {"legacy": "Not connected",
                                             "middleware": "Not connected"}
    for name in PANES:
        pane = f"[data-pane={name}]"
        assert await page.get_attribute(f"{pane} .verdict", "data-accepted") is None
        for field in (".source", ".welcome", ".transport", ".handshake"):
            assert (await page.text_content(f"{pane} {field}")).strip() == "", field
        assert not await page.is_visible(f"{pane} .show-handshake")
        assert not await page.is_visible(f"{pane} .retry")
    stories = await texts(page, ".story")
    assert stories["legacy"].startswith("authorization(handshake_data, callback) runs once")
    assert stories["middleware"].startswith("The HTTP handshake opens an Engine.IO session")


async def test_show_the_server_s_handshake_shows_each_era_s_own(demo, page_of):
    page = await page_of(demo)
    await connect_both(page, "alice", "wonderland", "auth-token")
    # 0.9 had no auth payload: the legacy pane is refused, and offers no handshake to show
    assert not await page.is_visible("[data-pane=legacy] .show-handshake")
    await connect_both(page, "alice", "wonderland", "query-token")
    for name in PANES:
        await page.click(f"[data-pane={name}] .show-handshake")
    await until_true_in_page(page, """[...document.querySelectorAll('.handshake')]
        .every(box => box.textContent.startsWith('{'))""")
    shown = await texts(page, ".handshake")
    assert '"user": "alice"' in shown["legacy"]  # 0.9: handshake_data, mutated in place
    assert '"auth": {}' in shown["middleware"]  # 1.0+: socket.handshake, with the auth payload
    assert all('"token": "[redacted]"' in text for text in shown.values())


async def test_every_button_works_in_every_state(servers, page_of):
    """Not connected, connecting, accepted, refused, unreachable, logged out: each button,
    in each state, does what it says and never throws."""
    hanging = reserve_port()  # a server that accepts connections and never answers
    demo = await start_demo(servers, legacy=f"http://127.0.0.1:{hanging.getsockname()[1]}")
    page = await page_of(demo)
    buttons = ["Connect both", "Disconnect", "Log out", "Log out everywhere"]
    for name in buttons:  # not connected: each one, then the pane is in a state it can say
        await page.get_by_role("button", name=name, exact=True).click()
    await page.get_by_role("button", name="Disconnect").click()
    # hidden buttons, pressed anyway through the page's own API: no TypeError
    for name in PANES:
        await page.evaluate("name => handshakeDemo.showHandshake(name)", name)
        assert await page.text_content(f"[data-pane={name}] .handshake") == (
            "Not connected: there is no handshake to show.")

    # connecting (the legacy server never answers): Disconnect stops it for good
    await page.fill("#username", "alice")
    await page.fill("#password", "wonderland")
    await page.select_option("#carrier", "query-password")
    await page.get_by_role("button", name="Connect both").click()
    await until_true_in_page(page, "document.querySelector('[data-pane=middleware] .verdict')"
                                   ".dataset.accepted === 'true'")
    assert await page.text_content("[data-pane=legacy] .verdict") == "Connecting…"
    await page.get_by_role("button", name="Disconnect").click()
    await page.wait_for_timeout(6_000)  # past the connection timeout: nothing comes back
    assert await texts(page, ".verdict") == {"legacy": "Not connected",
                                             "middleware": "Not connected"}

    # accepted (middleware) and unreachable (legacy): Retry, Show, then Connect again
    await page.get_by_role("button", name="Connect both").click()
    verdicts = await settled(page)
    assert verdicts["middleware"] == "Accepted as alice (user)"
    assert verdicts["legacy"].startswith("Unreachable: no answer from http://127.0.0.1:")
    await page.click("[data-pane=middleware] .show-handshake")
    await until_true_in_page(page, "document.querySelector('[data-pane=middleware] .handshake')"
                                   ".textContent.startsWith('{')")
    await page.click("[data-pane=legacy] .retry")
    assert await page.text_content("[data-pane=legacy] .verdict") == "Connecting…"
    await page.get_by_role("button", name="Connect both").click()  # while connecting
    verdicts = await settled(page)
    assert verdicts["legacy"].startswith("Unreachable")

    # refused: Retry asks again and is refused again; Log out then ends everything
    await page.fill("#password", "looking-glass")
    await page.get_by_role("button", name="Connect both").click()
    await settled(page)
    await page.click("[data-pane=middleware] .retry")
    await until_true_in_page(page, "document.querySelector('[data-pane=middleware] .verdict')"
                                   ".textContent.startsWith('Refused')")
    await page.get_by_role("button", name="Log out", exact=True).click()
    await until_true_in_page(page, """document.querySelector('[data-pane=middleware] .verdict')
        .textContent.startsWith('Logged out')""")
    await until_true_in_page(page, """document.querySelector('[data-pane=legacy] .verdict')
        .textContent.startsWith('Log out failed: no answer within 5 s')""")
    hanging.close()


@pytest.mark.parametrize("carrier", ["query-password", "cookie"])
async def test_a_server_that_is_down_or_never_answers_fails_visibly_within_seconds(
    servers, page_of, carrier
):
    down = socket.socket()
    down.bind(("127.0.0.1", 0))
    down_url = f"http://127.0.0.1:{down.getsockname()[1]}"
    down.close()  # nothing listens there: connection refused
    hanging = reserve_port()  # accepts, never answers
    hanging_url = f"http://127.0.0.1:{hanging.getsockname()[1]}"
    demo = await start_demo(servers, legacy=down_url, middleware=hanging_url)
    page = await page_of(demo)
    await page.select_option("#carrier", carrier)
    started = time.monotonic()
    await page.get_by_role("button", name="Connect both").click()
    verdicts = await settled(page)
    assert time.monotonic() - started < 7
    if carrier == "cookie":  # the login is the first request: it is the one that fails
        assert verdicts == {
            "legacy": f"Unreachable: POST /login: no answer (Failed to fetch) from {down_url}",
            "middleware": f"Unreachable: POST /login: no answer within 5 s from {hanging_url}",
        }
    else:
        assert verdicts == {
            "legacy": f"Unreachable: no answer from {down_url} (xhr poll error)",
            "middleware": f"Unreachable: no answer from {hanging_url} (timeout)",
        }
    stories = await texts(page, ".story")
    assert "so authorization never ran. Is the server running?" in stories["legacy"]
    assert "so no middleware ran. Is the server running?" in stories["middleware"]
    assert await page.is_visible("[data-pane=legacy] .retry")
    hanging.close()


async def test_each_pane_tells_what_its_era_s_server_did_in_that_era_s_terms(demo, page_of):
    page = await page_of(demo)
    await connect_both(page, "alice", "wonderland", "query-password")
    stories = await texts(page, ".story")
    assert ("authorization(handshake_data, callback) ran on it, read handshake_data[\"query\"], "
            "and answered callback(None, True)") in stories["legacy"]
    assert "HTTP 200" in stories["legacy"] and "would have emitted connect" in stories["legacy"]
    assert "opened an Engine.IO session with no check: HTTP 200" in stories["middleware"]
    assert "CONNECT packet for / ran authenticate(socket, next)" in stories["middleware"]
    assert 'On the wire: 40{"sid":…} (CONNECT)' in stories["middleware"]

    await connect_both(page, "alice", "looking-glass", "query-password")
    stories = await texts(page, ".story")
    assert "answered callback(None, False)" in stories["legacy"]
    assert "On the wire: HTTP 403, body handshake unauthorized" in stories["legacy"]
    assert "emitted error('handshake unauthorized')" in stories["legacy"]  # the 0.9.16 client
    assert "answered next(err)" in stories["middleware"]
    assert ('On the wire: 44{"message":"Invalid credentials","data":{"code":"bad_credentials"}}'
            in stories["middleware"])
    assert ('emitted connect_error with err.message "Invalid credentials" and err.data '
            '{"code":"bad_credentials"}') in stories["middleware"]

    await connect_both(page, "alice", "wonderland", "query-password", namespace="/admin")
    assert await texts(page, ".verdict") == {
        "legacy": "Refused: unauthorized",
        "middleware": "Refused: Forbidden namespace (forbidden_namespace)",
    }
    stories = await texts(page, ".story")
    assert "admin_authorization(handshake_data, callback)" in stories["legacy"]
    assert "A 0.9 client emitted connect_failed('unauthorized') on /admin" in stories["legacy"]
    assert "then require_admin(socket, next) answered next(err)" in stories["middleware"]
    assert '44/admin,{"message":"Forbidden namespace"' in stories["middleware"]


async def test_the_readme_screenshot_is_the_demo_as_it_is(demo, page_of, context):
    """The picture in the README: a wrong password, each server refusing in its own style.
    ``UPDATE_SCREENSHOT=1`` writes it to docs/assets/; otherwise it goes to artifacts/."""
    page = await page_of(demo)
    await page.set_viewport_size({"width": 1280, "height": 900})
    await connect_both(page, "alice", "looking-glass", "query-password")
    await page.evaluate("document.querySelectorAll('details.log').forEach(d => d.open = false)")
    target = SCREENSHOT if os.environ.get("UPDATE_SCREENSHOT") else ARTIFACTS / SCREENSHOT.name
    target.parent.mkdir(exist_ok=True)
    await page.screenshot(path=target, full_page=True)
    assert SCREENSHOT.stat().st_size > 20_000, "run with UPDATE_SCREENSHOT=1 to write it"
    assert hosts_contacted(context.requests) == {"127.0.0.1"}
