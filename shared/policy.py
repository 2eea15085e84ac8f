"""THE accept/refuse decision. Both servers call it unchanged; only how they answer differs.

``credentials_in()`` finds what a handshake presents, ``Policy.authenticate()`` turns that into an
``Identity`` or a ``Refusal`` with a reason code, ``authorize_namespace()`` adds the per-namespace
rule. Every refusal is logged here, once, with its code and carriers and never a credential value.
"""

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

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
}

# Namespaces that need a role; every other namespace admits any authenticated user.
NAMESPACE_ROLES = {"/admin": {"admin"}}


@dataclass(frozen=True)
class Identity:
    user: str
    role: str


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


class Policy:
    def __init__(self, tokens: TokenIssuer, users: Mapping[str, User] = USERS):
        self.tokens = tokens
        self.users = users
        self._hasher = PasswordHasher()

    async def authenticate(self, presented: list[Presented]) -> Identity | Refusal:
        """All presented credentials must be valid and name the same user (fail closed)."""
        carriers = [p.carrier for p in presented]
        if not presented:
            return self._refuse("missing_credentials", carriers)
        if any(p.problem for p in presented):
            return self._refuse("malformed_credentials", carriers)
        verdicts = [await self._check(p) for p in presented]
        refusals = [v for v in verdicts if isinstance(v, Refusal)]
        if refusals:
            return self._refuse(refusals[0].code, carriers)
        if len(set(verdicts)) > 1:
            return self._refuse("conflicting_credentials", carriers)
        return verdicts[0]

    def authorize_namespace(self, identity: Identity, namespace: str) -> Refusal | None:
        allowed = NAMESPACE_ROLES.get(namespace)
        if allowed is not None and identity.role not in allowed:
            return self._refuse("forbidden_namespace", [namespace])
        return None

    async def login(self, username: str, password: str) -> Identity | None:
        """For ``POST /login``: the identity behind a username and password, or None."""
        verdict = await self._check(Presented("login", username=username, password=password))
        return verdict if isinstance(verdict, Identity) else None

    async def _check(self, credential: Presented) -> Identity | Refusal:
        if credential.token is not None:
            return self._check_token(credential.token)
        user = self.users.get(credential.username)
        # argon2 takes ~25 ms of CPU: off the event loop, or every other connection waits.
        ok = await asyncio.to_thread(self._password_matches, user, credential.password)
        return Identity(user.name, user.role) if ok else Refusal("bad_credentials")

    def _password_matches(self, user: User | None, password: str) -> bool:
        try:
            self._hasher.verify(user.password_hash if user else DUMMY_HASH, password)
        except VerificationError:
            return False
        return user is not None

    def _check_token(self, token: str) -> Identity | Refusal:
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
        user = self.users.get(claims["sub"])
        return Identity(user.name, user.role) if user else Refusal("bad_credentials")

    @staticmethod
    def _refuse(code: str, carriers: list[str]) -> Refusal:
        log.info("refused: %s (carriers: %s)", code, ", ".join(carriers) or "none",
                 extra={"refusal": code})
        return Refusal(code)
