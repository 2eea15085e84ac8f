"""Connect to a running server the way users do, and say what happened: a ``Verdict``."""

import asyncio
import logging
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlencode

import aiohttp
import jwt
import socketio

from shared.policy import Policy
from shared.policy.tokens import ALGORITHM, TokenIssuer
from tests.cases import (
    ALICE,
    BOB,
    EXPIRED,
    NO_EXPIRY,
    UNKNOWN_USER,
    USERS,
    WRONG_KEY,
    HandshakeCase,
)

TEST_SECRET = b"test-secret-for-the-parity-suite-only"


ISSUED: list[str] = []  # every token the suite's issuers made: none may reach a log


class RecordingTokenIssuer(TokenIssuer):
    def issue(self, user: str, role: str, *, now: float | None = None) -> str:
        token = super().issue(user, role, now=now)
        ISSUED.append(token)
        return token


def make_policy(**options) -> Policy:
    return Policy(RecordingTokenIssuer(TEST_SECRET), **options)


def mint_tokens(issuer: TokenIssuer) -> dict[str, str]:
    now = time.time()
    return {
        ALICE: issuer.issue("alice", "user"),
        BOB: issuer.issue("bob", "admin"),
        EXPIRED: issuer.issue("alice", "user", now=now - issuer.ttl_seconds - 60),
        WRONG_KEY: RecordingTokenIssuer(b"some-other-secret-entirely-32-bytes-long").issue(
            "alice", "user"),
        UNKNOWN_USER: issuer.issue("mallory", "admin"),
        NO_EXPIRY: jwt.encode({"sub": "alice", "iat": int(now)}, issuer.secret, ALGORITHM),
    }


def fill(value, tokens: dict[str, str]):
    """Replace token placeholders, anywhere in a case's strings, dicts or tuples."""
    if isinstance(value, str):
        for placeholder, token in tokens.items():
            value = value.replace(placeholder, token)
        return value
    if isinstance(value, dict):
        return {k: fill(v, tokens) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(fill(v, tokens) for v in value)
    return value


@dataclass(frozen=True)
class Verdict:
    """What the server decided: accepted as user/role, or refused with a reason code."""

    accepted: bool
    user: str | None = None
    role: str | None = None
    reason: str | None = None

    @classmethod
    def expected(cls, outcome: str) -> "Verdict":
        if outcome in USERS:
            return cls(True, outcome, USERS.get(outcome).role)
        return cls(False, reason=outcome)

    def __str__(self) -> str:
        if self.accepted:
            return f"accepted as {self.user} ({self.role})"
        return f"refused: {self.reason}"


class RefusalLog(logging.Handler):
    """The refusal codes the server logged (the only place a 0.9 refusal's reason exists)."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.codes: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        code = getattr(record, "refusal", None)
        if code:
            self.codes.append(code)


@dataclass
class Attempt:
    """What the client saw, and the verdict it adds up to."""

    verdict: Verdict
    seen: str  # the client's view of it, e.g. "HTTP 403" or "connect_error ..."
    welcome: dict | None = None
    connect_error: object = None


async def attempt(url: str, case: HandshakeCase, tokens: dict[str, str], refusals: RefusalLog,
                  *, transports: list[str] | None = None) -> Attempt:
    query = urlencode(fill(case.query, tokens))
    headers = fill(case.headers, tokens)
    auth = fill(case.auth, tokens)
    return await connect(f"{url}?{query}" if query else url, refusals, headers=headers,
                         auth=auth, namespace=case.namespace, transports=transports)


async def until(condition, timeout: float = 3.0) -> None:
    """Wait for ``condition()`` to hold; fail the test if it does not within ``timeout``."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


@asynccontextmanager
async def python_client():
    """A python-socketio client that never reconnects by itself and closes all it opened."""
    # our own HTTP session: python-engineio leaks its own when a websocket handshake fails
    async with aiohttp.ClientSession() as http:
        client = socketio.AsyncClient(reconnection=False, handle_sigint=False, http_session=http)
        try:
            yield client
        finally:
            await client.shutdown()


async def connect(url: str, refusals: RefusalLog, *, headers=None, auth=None,
                  namespace: str = "/", transports: list[str] | None = None) -> Attempt:
    async with python_client() as client:
        welcomed = asyncio.get_running_loop().create_future()
        errors = []
        client.on("welcome", lambda data: welcomed.done() or welcomed.set_result(data),
                  namespace=namespace)
        client.on("connect_error", errors.append, namespace=namespace)
        logged_before = len(refusals.codes)
        try:
            await client.connect(url, headers=headers or {}, auth=auth, namespaces=[namespace],
                                 transports=transports, wait_timeout=3)
        except socketio.exceptions.ConnectionError as exc:
            new_codes = refusals.codes[logged_before:]
            verdict = Verdict(False, reason=new_codes[-1] if new_codes else None)
            error = errors[0] if errors else None
            seen = f"connect_error {error}" if isinstance(error, dict) else str(exc)
            return Attempt(verdict, seen, connect_error=error)
        welcome = await asyncio.wait_for(welcomed, 3)
        return Attempt(Verdict(True, welcome["user"], welcome["role"]), "connected",
                       welcome=welcome)


def from_address(address: str) -> aiohttp.ClientSession:
    """A client on another loopback address (127.0.0.0/8 is all this machine's)."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0)))


async def try_login(url: str, username: str, password: str, *, http=None, headers=None):
    """``POST /login``: its status, and its error code (or its text when not JSON)."""
    async with (http or aiohttp.ClientSession()) as session, session.post(
            url + "/login", json={"username": username, "password": password},
            headers=headers or {}) as response:
        if response.content_type != "application/json":
            return response.status, await response.text()
        return response.status, (await response.json()).get("error")
