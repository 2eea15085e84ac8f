"""Both implementations, through one fixture: every test runs against each real server."""

import importlib
import logging

import pytest
from aiohttp import web

from shared.access_log import RedactingAccessLogger
from tests.client import RefusalLog, make_policy, mint_tokens

IMPLEMENTATIONS = ["legacy_authorization", "middleware_auth"]
IDS = ["legacy", "middleware"]


@pytest.fixture(params=IMPLEMENTATIONS, ids=IDS)
def impl(request) -> str:
    return request.param


@pytest.fixture
def policy():
    return make_policy()


@pytest.fixture
def tokens(policy) -> dict[str, str]:
    return mint_tokens(policy.tokens)


@pytest.fixture
def refusals():
    handler = RefusalLog()
    logger = logging.getLogger("handshake")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)


async def start(app: web.Application) -> tuple[web.AppRunner, str]:
    """Serve ``app`` on an ephemeral loopback port; the caller stops it with ``stop``."""
    runner = web.AppRunner(app, shutdown_timeout=1, access_log_class=RedactingAccessLogger)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


async def stop(runner: web.AppRunner) -> None:
    for key in ("legacy_authorization", "middleware_auth"):
        module = importlib.import_module(f"{key}.app")
        if module.IO in runner.app:
            await runner.app[module.IO].sio.shutdown()
    await runner.cleanup()


@pytest.fixture
async def make_server(policy):
    """``await make_server(impl, **options)`` -> base URL; every server is stopped at the end."""
    runners = []

    async def make(name: str, **options) -> str:
        app = importlib.import_module(f"{name}.app").create_app(policy=policy, **options)
        runner, url = await start(app)
        runners.append(runner)
        return url

    yield make
    for runner in runners:
        await stop(runner)


@pytest.fixture
async def server(impl, make_server) -> str:
    return await make_server(impl)
