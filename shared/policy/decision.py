"""THE accept/refuse decision. Both servers call it unchanged; only how they answer differs.

``credentials_in()`` finds what a handshake presents, ``Policy.authenticate()`` turns that into an
``Identity`` or a ``Refusal`` with a reason code, ``authorize_namespace()`` adds the per-namespace
rule. Every refusal is logged here, once, with its code and carriers and never a credential value.
"""

import ipaddress
import logging
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from shared.policy.throttle import GateFull, HashingGate, Throttle
from shared.policy.tokens import TokenIssuer
from shared.policy.users import User, Users, load_users

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
    "throttled": "Too many attempts, try again later",
    "busy": "Server busy, try again later",
    "unavailable": "Service unavailable, try again later",
    "revoked_token": "Token revoked",
}

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
    if not _is_text(value):
        return "not text"
    return None


def _is_text(value: str) -> bool:
    """False for what cannot be UTF-8: a lone surrogate (JSON's ``"\\ud800"``), or bytes a
    header decoder kept as surrogate escapes."""
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


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
    ``cluster.state.RedisRevokedTokens`` has the same two methods."""

    def __init__(self):
        self._until: dict[str, float] = {}

    async def add(self, token_id: str, expires_at: float) -> None:
        now = time.time()
        self._until = {t: e for t, e in self._until.items() if e > now}
        self._until[token_id] = expires_at

    async def contains(self, token_id: str | None) -> bool:
        return token_id is not None and self._until.get(token_id, 0) > time.time()


class Policy:
    """One decision, every collaborator injected (nothing is made at import time): ``tokens``
    signs and verifies, ``users`` (the demo's by default) are checked with argon2 through
    ``hashing``, ``revoked`` token ids are refused.
    ``throttle``: password attempts per address and account (None: unlimited);
    ``trusted_proxies``: addresses whose ``X-Forwarded-For`` is believed (a load balancer)."""

    def __init__(self, tokens: TokenIssuer, users: Users | None = None,
                 throttle: Throttle | None = None, revoked=None,
                 hashing: HashingGate | None = None, trusted_proxies: Collection[str] = ()):
        self.tokens = tokens
        self.users = users if users is not None else load_users()  # the demo's, by default
        self.throttle = throttle
        self.revoked = revoked if revoked is not None else RevokedTokens()
        self.hashing = hashing or HashingGate()
        self.trusted_proxies = frozenset(trusted_proxies)
        self._hasher = PasswordHasher()

    # --8<-- [start:client]
    def client(self, peer: str, headers: Mapping[str, str]) -> str:
        """The address a request came from: the peer, unless the peer is a trusted proxy; then
        the last address in ``X-Forwarded-For`` that is not one (what a client prepends there
        itself is never believed)."""
        if peer not in self.trusted_proxies:
            return peer
        for hop in reversed(headers.get("x-forwarded-for", "").split(",")):
            hop = hop.strip()
            if hop and hop not in self.trusted_proxies:
                return hop if is_ip_address(hop) else peer
        return peer
    # --8<-- [end:client]

    async def authenticate(self, presented: list[Presented], *,
                           client: str = "") -> Identity | Refusal:
        """All presented credentials must be valid and name the same user (fail closed).
        ``client`` is the address password attempts are counted for."""
        verdict = await self._decide(presented, client)
        if isinstance(verdict, Refusal):
            return self._refuse(verdict.code, [p.carrier for p in presented])
        return verdict

    async def _decide(self, presented: list[Presented], client: str) -> Identity | Refusal:
        if not presented:
            return Refusal("missing_credentials")
        if any(p.problem for p in presented):
            return Refusal("malformed_credentials")
        if len(presented) == 1:  # the usual handshake: nothing to reconcile
            return await self._check(presented[0], client)
        verdicts = [await self._check(p, client) for p in presented]
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

    async def _check(self, credential: Presented, client: str) -> Identity | Refusal:
        if credential.token is not None:
            return await self._check_token(credential.token)
        return await self._check_password(credential.username, credential.password, client)

    # --8<-- [start:password]
    async def _check_password(self, username: str, password: str,
                              client: str) -> Identity | Refusal:
        """Reserve an attempt first (atomically), then hash off the event loop, if there is
        room: a guess is counted before it is checked, and a flood is refused, not queued."""
        if self.throttle:
            try:
                reserved = await self.throttle.reserve(client, username)
            except Exception:  # its store (Redis) is down: no attempt goes uncounted
                log.warning("throttle unavailable: password check refused", exc_info=True)
                return Refusal("unavailable")
            if not reserved:
                return Refusal("throttled")
        user = self.users.get(username)
        try:
            ok = await self.hashing.run(client, self._password_matches, user, password)
        except GateFull:
            return Refusal("busy")
        return Identity(user.name, user.role) if ok else Refusal("bad_credentials")
    # --8<-- [end:password]

    def _password_matches(self, user: User | None, password: str) -> bool:
        try:
            self._hasher.verify(user.password_hash if user else self.users.dummy_hash, password)
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


def is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
