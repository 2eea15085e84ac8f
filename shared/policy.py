"""THE accept/refuse decision. Both servers call it unchanged; only how they answer differs.

``credentials_in()`` finds what a handshake presents, ``Policy.authenticate()`` turns that into an
``Identity`` or a ``Refusal`` with a reason code, ``authorize_namespace()`` adds the per-namespace
rule. Every refusal is logged here, once, with its code and carriers and never a credential value.
"""

import asyncio
import logging
import os
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from shared.throttle import Throttle
from shared.tokens import TokenIssuer
from shared.users import DUMMY_HASH, USERS, User

log = logging.getLogger("handshake.policy")

MAX_CREDENTIAL_LENGTH = 2048

REFUSALS = {
    "missing_credentials": "Authentication required",
    "malformed_credentials": "Malformed credentials",
    "bad_credentials": "Invalid credentials",
    "expired_token": "Token expired",
    "conflicting_credentials": "Credentials name different users",
    "forbidden_namespace": "Forbidden namespace",
    "authorization_error": "Authorization failed",
    "throttled": "Too many failed attempts, try again later",
    "revoked_token": "Token revoked",
}

# Refusals that look like guessing count towards the throttle; a missing or expired
# credential does not (a page opened before logging in, a token that just ran out).
GUESSES = {"bad_credentials", "malformed_credentials", "conflicting_credentials"}

# argon2 runs in these threads, never on the event loop. One core is left to the loop: with as
# many hashing threads as cores, 50 concurrent logins starve it (measured: 40 ms of lag).
HASHING = ThreadPoolExecutor(max_workers=max(1, (os.cpu_count() or 2) - 1),
                             thread_name_prefix="argon2")

# Namespaces that need a role; every other namespace admits any authenticated user.
NAMESPACE_ROLES = {"/admin": {"admin"}}


@dataclass(frozen=True)
class Identity:
    """Who connected. Two credentials for the same user are the same identity, whatever
    their expiry; ``expires_at`` (epoch seconds) and ``token_id`` come from a token."""

    user: str
    role: str
    expires_at: float | None = field(default=None, compare=False)
    token_id: str | None = field(default=None, compare=False)

    def as_dict(self) -> dict:
        """What the era's socket keeps: on ``handshake_data`` (0.9) or ``socket.data`` (1.0+)."""
        return {"user": self.user, "role": self.role, "expires_at": self.expires_at,
                "token_id": self.token_id}


@dataclass(frozen=True)
class Refusal:
    code: str

    @property
    def message(self) -> str:
        return REFUSALS[self.code]


@dataclass(frozen=True)
class Presented:
    """One credential as found in one carrier; ``problem`` says why it cannot be checked."""

    carrier: str
    token: str | None = None
    username: str | None = None
    password: str | None = None
    problem: str | None = None


# --8<-- [start:carriers]
def credentials_in(
    query: Mapping[str, object], headers: Mapping[str, str], auth: object = None
) -> list[Presented]:
    """Every credential a handshake presents, in carrier order.

    ``query`` maps a name to a string, or to a list when the name came more than once (as
    Node's ``querystring`` does); ``headers`` has lower-case names; ``auth`` is the Socket.IO 3+
    CONNECT payload, which the 0.9 protocol did not have (the legacy server passes None).
    """
    found = []
    if "token" in query:
        found.append(_token("query token", query["token"]))
    if "username" in query or "password" in query:
        found.append(_password("query password", query.get("username"), query.get("password")))
    if "authorization" in headers:
        scheme, _, token = headers["authorization"].partition(" ")
        if scheme.lower() == "bearer":
            found.append(_token("authorization header", token.strip()))
        else:
            found.append(Presented("authorization header", problem="not a Bearer token"))
    cookie_tokens = [
        value.strip()
        for name, _, value in (part.partition("=") for part in headers.get("cookie", "").split(";"))
        if name.strip() == "token"
    ]
    if cookie_tokens:
        only_one = cookie_tokens[0] if len(cookie_tokens) == 1 else cookie_tokens
        found.append(_token("cookie", only_one))
    if isinstance(auth, Mapping):
        if "token" in auth:
            found.append(_token("auth token", auth["token"]))
        if "username" in auth or "password" in auth:
            found.append(_password("auth password", auth.get("username"), auth.get("password")))
    elif auth is not None:
        found.append(Presented("auth", problem="auth is not an object"))
    return found
# --8<-- [end:carriers]


def _problem_with(value: object) -> str | None:
    if isinstance(value, list):
        return "given more than once"
    if not isinstance(value, str):
        return "not a string"
    if not value:
        return "empty"
    if len(value) > MAX_CREDENTIAL_LENGTH:
        return "too long"
    return None


def _token(carrier: str, value: object) -> Presented:
    problem = _problem_with(value)
    return Presented(carrier, problem=problem) if problem else Presented(carrier, token=value)


def _password(carrier: str, username: object, password: object) -> Presented:
    problem = _problem_with(username) or _problem_with(password)
    if problem:
        return Presented(carrier, problem=problem)
    return Presented(carrier, username=username, password=password)


class RevokedTokens:
    """Token ids revoked before they expire (``POST /logout``); each is kept only until the
    token would have expired anyway, so the set stays bounded. In one process; with several,
    ``shared.redis_state.RedisRevokedTokens`` has the same two methods."""

    def __init__(self):
        self._until: dict[str, float] = {}

    async def add(self, token_id: str, expires_at: float) -> None:
        now = time.time()
        self._until = {t: e for t, e in self._until.items() if e > now}
        self._until[token_id] = expires_at

    async def contains(self, token_id: str | None) -> bool:
        return token_id is not None and self._until.get(token_id, 0) > time.time()


class Policy:
    def __init__(self, tokens: TokenIssuer, users: Mapping[str, User] = USERS,
                 throttle: Throttle | None = None, revoked=None):
        self.tokens = tokens
        self.users = users
        self.throttle = throttle
        self.revoked = revoked if revoked is not None else RevokedTokens()
        self._hasher = PasswordHasher()

    async def authenticate(self, presented: list[Presented], *,
                           client: str = "") -> Identity | Refusal:
        """All presented credentials must be valid and name the same user (fail closed).
        ``client`` is the peer address the throttle counts failures for."""
        carriers = [p.carrier for p in presented]
        if self.throttle and await self.throttle.blocked(client):
            return self._refuse("throttled", carriers)
        verdict = await self._decide(presented)
        if isinstance(verdict, Refusal):
            if self.throttle and verdict.code in GUESSES:
                await self.throttle.failed(client)
            return self._refuse(verdict.code, carriers)
        return verdict

    async def _decide(self, presented: list[Presented]) -> Identity | Refusal:
        if not presented:
            return Refusal("missing_credentials")
        if any(p.problem for p in presented):
            return Refusal("malformed_credentials")
        verdicts = [await self._check(p) for p in presented]
        refusals = [v for v in verdicts if isinstance(v, Refusal)]
        if refusals:
            return refusals[0]
        if len(set(verdicts)) > 1:
            return Refusal("conflicting_credentials")
        # the connection lasts as long as the shortest-lived credential presented
        return min(verdicts, key=lambda v: v.expires_at or float("inf"))

    def authorize_namespace(self, identity: Identity, namespace: str) -> Refusal | None:
        allowed = NAMESPACE_ROLES.get(namespace)
        if allowed is not None and identity.role not in allowed:
            return self._refuse("forbidden_namespace", [namespace])
        return None

    async def login(self, username: str, password: str, *, client: str = "") -> Identity | Refusal:
        """For ``POST /login``: the identity behind a username and password, or a refusal."""
        return await self.authenticate(
            [Presented("login", username=username, password=password)], client=client)

    async def _check(self, credential: Presented) -> Identity | Refusal:
        if credential.token is not None:
            return await self._check_token(credential.token)
        user = self.users.get(credential.username)
        # argon2 takes ~25 ms of CPU: off the event loop, or every other connection waits.
        ok = await asyncio.get_running_loop().run_in_executor(
            HASHING, self._password_matches, user, credential.password)
        return Identity(user.name, user.role) if ok else Refusal("bad_credentials")

    def _password_matches(self, user: User | None, password: str) -> bool:
        try:
            self._hasher.verify(user.password_hash if user else DUMMY_HASH, password)
        except VerificationError:
            return False
        return user is not None

    async def _check_token(self, token: str) -> Identity | Refusal:
        try:
            claims = self.tokens.verify(token)
        except jwt.ExpiredSignatureError:
            return Refusal("expired_token")
        except jwt.InvalidSignatureError:
            return Refusal("bad_credentials")
        except jwt.DecodeError:
            return Refusal("malformed_credentials")
        except jwt.InvalidTokenError:
            return Refusal("bad_credentials")
        if await self.revoked.contains(claims.get("jti")):
            return Refusal("revoked_token")
        user = self.users.get(claims["sub"])
        if not user:
            return Refusal("bad_credentials")
        return Identity(user.name, user.role, expires_at=claims["exp"], token_id=claims.get("jti"))

    @staticmethod
    def _refuse(code: str, carriers: list[str]) -> Refusal:
        log.info("refused: %s (carriers: %s)", code, ", ".join(carriers) or "none",
                 extra={"refusal": code})
        return Refusal(code)
