"""The shared client in real Chromium: same verdicts as the Python client, on both servers."""

from dataclasses import dataclass

import pytest

from shared.policy import Policy
from shared.webapp import side_by_side
from tests.browser.conftest import (
    ARTIFACTS,
    hosts_contacted,
    reserve_port,
    until_true_in_page,
)
from tests.cases import ALICE, BOB, CASES, EXPIRED, WRONG_KEY
from tests.client import TEST_SECRET, RecordingTokenIssuer, Verdict, attempt
from tests.implementations import IMPLEMENTATIONS

pytestmark = pytest.mark.browser
BY_ID = {case.id: case for case in CASES}


@dataclass(frozen=True)
class BrowserCase:
    """A parity case, as a person does it with the page's form."""

    case_id: str
    carrier: str
    username: str = ""
    password: str = ""
    token: str | None = None  # a placeholder from tests.cases; else the client logs in
    cookie: str | None = None  # a placeholder put in the cookie jar beforehand
    namespace: str = "/"


BROWSER_CASES = [
    BrowserCase("query-password-valid", "query-password", "alice", "wonderland"),
    BrowserCase("query-password-wrong", "query-password", "alice", "looking-glass"),
    BrowserCase("query-token-valid", "query-token", token=ALICE),
    BrowserCase("query-token-expired", "query-token", token=EXPIRED),
    BrowserCase("header-token-valid", "header", token=ALICE),
    BrowserCase("header-token-wrong-key", "header", token=WRONG_KEY),
    BrowserCase("cookie-token-valid", "cookie", "alice", "wonderland"),  # a real /login
    BrowserCase("cookie-token-expired", "cookie", token=EXPIRED, cookie=EXPIRED),
    BrowserCase("auth-token-valid", "auth-token", token=ALICE),
    BrowserCase("auth-password-valid", "auth-password", "bob", "builder"),
    BrowserCase("auth-token-expired", "auth-token", token=EXPIRED),
    BrowserCase("admin-as-admin", "query-token", token=BOB, namespace="/admin"),
    BrowserCase("admin-as-user", "query-token", token=ALICE, namespace="/admin"),
    BrowserCase("no-credentials", "query-token", "alice", ""),  # /login says 400: no token
]


async def connect_in_page(page, pane: str, request: dict) -> dict:
    return await page.evaluate("([pane, request]) => handshakeDemo.connect(pane, request)",
                               [pane, request])


@pytest.mark.parametrize("bcase", BROWSER_CASES, ids=lambda b: b.case_id)
async def test_the_browser_verdict_equals_the_python_client_verdict(
    impl, server, context, tokens, refusals, bcase
):
    case = BY_ID[bcase.case_id]
    python_verdict = (await attempt(server, case, tokens, refusals)).verdict
    if bcase.cookie:
        await context.add_cookies([{"name": "token", "value": tokens[bcase.cookie],
                                    "url": server, "httpOnly": True}])
    page = await context.new_page()
    await page.goto(server + "/")
    logged_before = len(refusals.codes)
    seen = await connect_in_page(page, impl.id, {
        "carrier": bcase.carrier, "username": bcase.username, "password": bcase.password,
        "token": tokens[bcase.token] if bcase.token else None, "namespace": bcase.namespace,
    })
    if seen["accepted"]:
        browser_verdict = Verdict(True, seen["user"], seen["role"])
    else:
        browser_verdict = Verdict(False, reason=refusals.codes[-1]
                                  if len(refusals.codes) > logged_before else None)
        expected_view = impl.refusal_in_browser(browser_verdict.reason,
                                        bcase.namespace)
        assert {key: seen[key] for key in expected_view} == expected_view
    assert browser_verdict == python_verdict
    assert browser_verdict == impl.expected(case)
    assert hosts_contacted(context.requests) == {"127.0.0.1"}


@pytest.fixture
async def side_by_side_page(servers, policy):
    """Both servers plus the side-by-side page on its own origin, as `make demo` runs them."""
    sock = reserve_port()
    page_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    urls = {impl.id: await servers.app(impl, allowed_origins=[page_url])
            for impl in IMPLEMENTATIONS}
    await servers.serve(side_by_side.create_app(**urls), sock=sock)
    return page_url, urls


async def verdicts(page) -> dict[str, str]:
    await until_true_in_page(
        page, "[...document.querySelectorAll('.verdict')].every(v => v.dataset.accepted)")
    return {name: await page.text_content(f"[data-pane={name}] .verdict")
            for name in ("legacy", "middleware")}


@pytest.mark.parametrize("carrier", ["query-password", "cookie", "auth-token"])
async def test_side_by_side_good_credentials_are_accepted_by_both(side_by_side_page, context,
                                                                  carrier):
    page_url, _ = side_by_side_page
    page = await context.new_page()
    await page.goto(page_url + "/")
    await page.select_option("#carrier", carrier)
    await page.click("text=Connect both")
    expected = "Accepted as alice (user)"
    if carrier == "auth-token":  # 0.9 had no auth payload: the declared difference
        assert await verdicts(page) == {"legacy": "Refused: HTTP 403 handshake unauthorized",
                                        "middleware": expected}
    else:
        assert await verdicts(page) == {"legacy": expected, "middleware": expected}
    assert hosts_contacted(context.requests) == {"127.0.0.1"}


async def test_side_by_side_bad_credentials_are_refused_by_both_each_in_its_style(
    side_by_side_page, context
):
    page_url, urls = side_by_side_page
    page = await context.new_page()
    await page.goto(page_url + "/")
    await page.fill("#password", "looking-glass")
    await page.get_by_role("button", name="Connect both").click()
    assert await verdicts(page) == {
        "legacy": "Refused: HTTP 403 handshake unauthorized",
        "middleware": "Refused: Invalid credentials (bad_credentials)",
    }
    assert await page.is_visible("[data-pane=middleware] .retry")
    await page.wait_for_timeout(1500)  # long enough for v4's backoff to have retried
    legacy_handshakes = [u for u in context.requests
                         if u.startswith(urls["legacy"] + "/socket.io/")]
    assert len(legacy_handshakes) == 1, "the client must stop after a refused HTTP handshake"
    assert hosts_contacted(context.requests) == {"127.0.0.1"}
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "side-by-side.png", full_page=True)


async def test_an_expired_session_is_shown_and_retry_reconnects_with_a_fresh_token(
    impl, servers, context
):
    servers.policy = Policy(RecordingTokenIssuer(TEST_SECRET, ttl_seconds=2))
    url = await servers.app(impl)
    page = await context.new_page()
    await page.goto(url + "/")
    await page.select_option("#carrier", impl.carrier)
    await page.click("button[type=submit]")
    verdict = page.locator(".verdict")
    await verdict.filter(has_text="Accepted as alice (user)").wait_for(timeout=5_000)
    await verdict.filter(has_text="session ended: Token expired").wait_for(timeout=8_000)
    await page.click(".retry")  # logs in again: a fresh token
    await verdict.filter(has_text="Accepted as alice (user)").wait_for(timeout=5_000)


async def test_the_page_works_from_the_keyboard_and_announces_verdicts(side_by_side_page,
                                                                       context):
    page_url, _ = side_by_side_page
    page = await context.new_page()
    await page.goto(page_url + "/")
    unlabelled = await page.evaluate("""() => [...document.querySelectorAll('input, select')]
        .filter(field => !document.querySelector(`label[for="${field.id}"]`))
        .map(field => field.name)""")
    assert unlabelled == []
    assert await page.locator('[role="status"][aria-live="polite"]').count() == 2
    await page.focus("#username")
    await page.keyboard.press("Tab")  # to the password field
    assert await page.evaluate("document.activeElement.id") == "password"
    await page.keyboard.press("Enter")  # submits the form: connect both
    assert await verdicts(page) == {"legacy": "Accepted as alice (user)",
                                    "middleware": "Accepted as alice (user)"}
