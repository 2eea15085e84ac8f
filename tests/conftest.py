"""Both implementations, through one fixture: every test runs against each real server."""

import logging

import pytest
from hypothesis import HealthCheck, settings

from shared.policy import session_store
from tests.client import ISSUED, RefusalLog, make_policy, mint_tokens
from tests.implementations import IMPLEMENTATIONS, Implementation
from tests.servers import Servers

# Servers are started once per test, not per example: they keep no state between handshakes.
PROPERTY_SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                              HealthCheck.too_slow])
# make test: the same 40 examples every run (no flaky CI); make fuzz: 10,000 fresh ones
settings.register_profile("quick", max_examples=40, derandomize=True, **PROPERTY_SETTINGS)
settings.register_profile("fuzz", max_examples=10_000, **PROPERTY_SETTINGS)
settings.load_profile("quick")


def pytest_configure(config):
    # aiohttp 3.14 asks for web.RequestKey; aiohttp-session 2.12.1, its latest, still keeps the
    # session in the request under two string keys (the servers ignore it too: session_store)
    config.addinivalue_line("filterwarnings",
                            "ignore::aiohttp.web_exceptions.NotAppKeyWarning:aiohttp_session")


def pytest_addoption(parser):
    parser.addoption("--load-handshakes", type=int, default=1000,
                     help="concurrent handshakes per server in the load test (make fuzz: 1000)")

@pytest.fixture(params=IMPLEMENTATIONS, ids=str)
def impl(request) -> Implementation:
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
async def both_servers(servers) -> dict[str, str]:
    return {impl.id: await servers.app(impl) for impl in IMPLEMENTATIONS}


@pytest.fixture
async def server(impl, servers) -> str:
    """The base URL of a fresh server of the implementation under test."""
    return await servers.app(impl)


DEMO_PASSWORDS = ["wonderland", "builder"]


class EveryRecord(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record))


@pytest.fixture(autouse=True)
def no_secret_in_any_log(monkeypatch):
    """Every log record of every test, at every level, must be free of passwords, tokens and
    session ids (those this process makes are recorded as they are made)."""
    made = session_store.new_session_id

    def recorded() -> str:
        session_id = made()
        ISSUED.append(session_id)
        return session_id

    monkeypatch.setattr(session_store, "new_session_id", recorded)
    records, root = EveryRecord(), logging.getLogger()
    level = root.level
    root.addHandler(records)
    root.setLevel(logging.DEBUG)
    issued_before = len(ISSUED)
    yield
    root.removeHandler(records)
    root.setLevel(level)
    secrets = DEMO_PASSWORDS + ISSUED[issued_before:]
    leaks = [(secret[:12] + "…", text[:200]) for text in records.texts for secret in secrets
             if secret in text]
    assert not leaks, f"secrets in the log: {leaks}"
