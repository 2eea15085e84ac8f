"""Real Chromium (Debian's, by path) driven by Playwright, against real servers."""

import asyncio
import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from playwright.async_api import async_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
# As root in a closed network: no sandbox, and no background calls to Google's services.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-default-apps"]


@pytest.fixture
async def browser():
    if not os.access(CHROMIUM, os.X_OK):  # a failure, never a skip: `make browser` installs it
        pytest.fail(f"no Chromium at {CHROMIUM}: run `make browser` (apt-get install chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest.fixture
async def context(browser):
    """A fresh browser profile that records every request the page makes."""
    context = await browser.new_context()
    context.requests = []
    context.on("request", lambda request: context.requests.append(request.url))
    yield context
    await context.close()


def hosts_contacted(urls: list[str]) -> set[str]:
    return {urlsplit(url).hostname for url in urls if not url.startswith(("data:", "blob:"))}


def reserve_port() -> socket.socket:
    """A listening loopback socket, so that a page's origin is known before servers start."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


async def until_true_in_page(page, expression: str, timeout: float = 10.0) -> None:
    """Playwright's ``wait_for_function`` evaluates its predicate with ``eval``, which the
    pages' Content-Security-Policy forbids; ``page.evaluate`` is not subject to it."""
    async with asyncio.timeout(timeout):
        while not await page.evaluate(expression):
            await asyncio.sleep(0.05)


async def serve_foreign_page(servers, html: str) -> str:
    """Serve ``html`` at ``/`` on another loopback port: a page of another origin (an
    attacker's). Its origin, e.g. ``http://127.0.0.1:40123``."""
    sock = reserve_port()

    async def page(request):
        return web.Response(text=html, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    await servers.serve(app, sock=sock)
    return f"http://127.0.0.1:{sock.getsockname()[1]}"
