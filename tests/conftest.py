"""Both implementations, through one fixture: every test runs against each real server."""

import logging

import pytest

from tests.client import RefusalLog, make_policy, mint_tokens
from tests.servers import Servers

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


@pytest.fixture
async def servers(policy):
    servers = Servers(policy)
    yield servers
    await servers.stop()


@pytest.fixture
async def server(impl, servers) -> str:
    """The base URL of a fresh server of the implementation under test."""
    return await servers.app(impl)
