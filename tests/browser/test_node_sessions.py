"""The Node session apps in real Chromium: each era's demo page (``GET /``) logs in and
connects with its own client, and logging out ends the connection; a page on another origin
connects to 4.8 with the user's session cookie only with ``withCredentials``."""

from pathlib import Path

import pytest

from tests.browser.conftest import serve_foreign_page, until_true_in_page
from tests.node import NodeServer

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
APPS = {"0.9": "originals/v0.9/app.js", "4.8": "originals/v4/app.js"}
LOG = "document.getElementById('log').textContent"


async def log_has(page, text: str) -> None:
    await until_true_in_page(page, f"{LOG}.includes({text!r})")


async def log_in(page, url: str) -> None:
    await page.goto(url + "/")
    await page.get_by_role("button", name="Log in and connect").click()
    await log_has(page, "welcome")


@pytest.mark.parametrize("era", list(APPS))
async def test_the_demo_page_logs_in_connects_and_logs_out(era, context):
    server = NodeServer(APPS[era])
    try:
        page = await context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(error))
        await log_in(page, server.url)
        await log_has(page, f'welcome {{"user":"alice","role":"user","server":"node-{era}"}}')
        await page.get_by_role("button", name="Log out").click()
        await log_has(page, "POST /logout 200")
        await log_has(page, "disconnect")  # the server ended the connection
        assert errors == []
    finally:
        server.stop()


@pytest.mark.parametrize(("credentials", "seen"), [
    ("true", "welcome alice"),
    ("false", "connect_error Authentication required"),  # no cookie on the polling requests
])
async def test_another_origin_s_page_sends_the_cookie_only_with_credentials(
        credentials, seen, context, servers):
    page_origin = await serve_foreign_page(
        servers, (ROOT / "originals/v4/cross-origin.html").read_text())
    server = NodeServer(APPS["4.8"], "--allow-origin", page_origin)
    try:
        page = await context.new_page()
        await log_in(page, server.url)  # the session cookie, for 127.0.0.1
        await page.goto(f"{page_origin}/?server={server.url}&credentials={credentials}")
        await log_has(page, seen)
    finally:
        server.stop()
