"""THE accept/refuse decision. Both servers call it unchanged; only how they answer differs.

``credentials_in()`` finds what a handshake presents, ``Policy.authenticate()`` turns that into an
``Identity`` or a ``Refusal`` with a reason code, ``authorize_namespace()`` adds the per-namespace
rule. Every refusal is logged here, once, with its code and carriers and never a credential value.
"""

import hashlib
import ipaddress
import logging
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from shared.policy.session_store import SessionStore, cookies_named, session_cookie
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
    "logged_out": "Logged out everywhere",
    "invalid_session": "Session expired or unknown",
}

# Namespaces that need a role; every other namespace admits any authenticated user.
NAMESPACE_ROLES = {"/admin": {"admin"}}


@dataclass(frozen=True)
class Identity:
    """Who connected. Two credentials for the same user are the same identity, whatever
    their expiry; ``expires_at`` (epoch seconds) and ``token_id`` come from a token,
    ``session_id`` from a session cookie: the SHA-256 of the session's id, never the id itself
    (what holds it can be logged, shown and published to other nodes).
    ``authenticated_at``: when the user last gave their password (a token's ``iat``, a
    session's login, or the password check itself); "log out everywhere" ends what was
    authenticated before it."""

    user: str
    role: str
    expires_at: float | None = field(default=None, compare=False)
    token_id: str | None = field(default=None, compare=False)
    authenticated_at: float | None = field(default=None, compare=False)
    session_id: str | None = field(default=None, compare=False)

    @classmethod
    def from_dict(cls, kept: dict) -> "Identity":
        """The identity ``as_dict()`` left on an era's socket."""
        return cls(kept["user"], kept["role"], kept.get("expires_at"), kept.get("token_id"),
                   kept.get("authenticated_at"), kept.get("session_id"))

    def as_dict(self) -> dict:
        """What the era's socket keeps: on ``handshake_data`` (0.9) or ``socket.data`` (1.0+)."""
        return {"user": self.user, "role": self.role, "expires_at": self.expires_at,
                "token_id": self.token_id, "session_id": self.session_id,
                "authenticated_at": self.authenticated_at}

    @property
    def credential_id(self) -> str | None:
        """What a logout revokes: the token's id, or the session's hash."""
        return self.token_id or self.session_id

    @property
    def credential_ids(self) -> tuple[str, ...]:
        """Every credential the connection was opened with (a token and a session cookie may
        come together): the revocation of either ends it."""
        return tuple(i for i in (self.token_id, self.session_id) if i is not None)

    # A connection opened with a token and a session cookie lasts as long as the token (the
    # shorter-lived): its end is the token's, in the token's words.
    @property
    def revoked_code(self) -> str:
        return "revoked_token" if self.token_id else "invalid_session"

    @property
    def expired_code(self) -> str:
        return "expired_token" if self.token_id else "invalid_session"


class ThrottleUnavailable(Exception):
    """The throttle's store cannot be read: the password is not checked."""


@dataclass(frozen=True)
class Refusal:
    code: str

    @property
    def message(self) -> str:
        return REFUSALS[self.code]


@dataclass(frozen=True)
class Presented:
    """One credential as found in one carrier; ``problem`` says why it cannot be checked.
    A session cookie has the hash of its id (``session_id``) and, if it names a live session,
    that ``session``."""

    carrier: str
    token: str | None = None
    username: str | None = None
    password: str | None = None
    problem: str | None = None
    session_id: str | None = None
    session: Mapping | None = field(default=None, compare=False, repr=False)


def token_cookie(secure: bool) -> str:
    """The login cookie's name. Over TLS, ``__Host-token``: a browser keeps a ``__Host-``
    cookie only if it came over https, Secure, with ``Path=/`` and no ``Domain``, so neither
    a sibling subdomain nor a plain-http answer can set it."""
    return "__Host-token" if secure else "token"


# --8<-- [start:carriers]
def credentials_in(handshake: Mapping[str, object],
                   session: Mapping | None = None) -> list[Presented]:
    """Every credential a handshake presents, in carrier order: the era's handshake object,
    0.9's ``handshake_data`` or 1.0+'s ``socket.handshake``, whose fields share their names,
    and the server-side ``session`` the era read for the handshake's session cookie.

    ``query`` maps a name to a string, or to a list when the name came more than once (as
    Node's ``querystring`` does); ``headers`` has lower-case names; ``auth`` is the Socket.IO 3+
    CONNECT payload, which the 0.9 protocol did not have; ``secure``: it came over TLS (then
    only the ``__Host-`` cookies are read, else only ``token`` and ``session``). Only
    ``headers`` is needed.
    """
    query, headers = handshake.get("query", {}), handshake["headers"]
    auth = handshake.get("auth")
    secure = bool(handshake.get("secure"))
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
    cookie_tokens = cookies_named(headers, token_cookie(secure))  # never the other one
    if cookie_tokens:
        only_one = cookie_tokens[0] if len(cookie_tokens) == 1 else cookie_tokens
        found.append(_token("cookie", only_one))
    session_ids = cookies_named(headers, session_cookie(secure))
    if session_ids:  # whatever its value: one that names no live session is refused
        found.append(_session(session_ids, session))
    if isinstance(auth, Mapping):
        if "token" in auth:
            found.append(_token("auth token", auth["token"]))
        if "username" in auth or "password" in auth:
            found.append(_password("auth password", auth.get("username"), auth.get("password")))
    elif auth is not None:
        found.append(Presented("auth", problem="auth is not an object"))
    return found
# --8<-- [end:carriers]


def _session(values: list[str], session: Mapping | None) -> Presented:
    """A session cookie: its id's hash, and the session if it is the live one with that id."""
    problem = _problem_with(values[0] if len(values) == 1 else values)
    if problem:  # given more than once, empty, too long, not text
        return Presented("session cookie", problem=problem)
    [session_id] = values
    live = (session is not None and getattr(session, "identity", None) == session_id
            and isinstance(session.get("user"), str))
    return Presented("session cookie", session_id=hashlib.sha256(session_id.encode()).hexdigest(),
                     session=session if live else None)


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


class RevocationUnavailable(Exception):
    """A revocation could not be recorded or published: the shared store is unreachable.
    ``POST /logout`` then answers 503: it never reports a revocation it could not record and
    announce. (A node that was cut off from Redis hears of it when it subscribes again, at
    most ``RedisRevocationBus.retry`` seconds after Redis is back, and ends what it missed.)"""


class RevokedTokens:
    """What ``POST /logout`` and ``POST /logout-everywhere`` ended before its time: token ids
    and session hashes (``Identity.credential_id``), and per user a time before which every
    authentication is ended ("issued before"). Each
    entry is kept only until what it ends would have expired anyway, so the store stays
    bounded. In one process; with several, ``shared.redis_state.RedisRevokedTokens`` has the same
    methods."""

    def __init__(self):
        self._until: dict[str, float] = {}  # token id, or "user:" + name -> kept until
        self._before: dict[str, float] = {}  # user -> authentications before this are ended

    def _forget_expired(self) -> None:
        now = time.time()
        self._until = {key: until for key, until in self._until.items() if until > now}
        self._before = {user: before for user, before in self._before.items()
                        if f"user:{user}" in self._until}

    async def add(self, credential_id: str, expires_at: float) -> None:
        self._forget_expired()
        self._until[credential_id] = expires_at

    async def add_user(self, user: str, before: float, keep_until: float) -> None:
        """End every authentication of ``user`` made before ``before``."""
        self._forget_expired()
        self._before[user] = before
        self._until[f"user:{user}"] = keep_until

    async def logged_out_before(self, user: str) -> float | None:
        """When ``user`` last logged out everywhere, while that still ends anything."""
        return self._before.get(user) if self._until.get(f"user:{user}", 0) > time.time() else None

    async def ended(self, identities: list[Identity]) -> list[str | None]:
        """For each identity, why it has been ended (a refusal code), or None."""
        now = time.time()
        return [why_ended(identity,
                           any(self._until.get(i, 0) > now for i in identity.credential_ids),
                           self._before.get(identity.user)
                           if self._until.get(f"user:{identity.user}", 0) > now else None)
                for identity in identities]


def why_ended(identity: Identity, token_revoked: bool, before: float | None) -> str | None:
    """The refusal code for an identity whose token or session was revoked, or which was
    authenticated before its user logged out everywhere; None if neither."""
    if token_revoked:
        return identity.revoked_code
    if before is not None and (identity.authenticated_at or 0) < before:
        return "logged_out"
    return None


class Policy:
    """One decision, every collaborator injected (nothing is made at import time): ``tokens``
    signs and verifies, ``users`` (the demo's by default) are checked with argon2 through
    ``hashing``, ``revoked`` token ids and sessions are refused; ``sessions`` keeps the
    server-side sessions ``POST /login`` starts (in this process's memory by default).
    ``throttle``: password attempts per address and account (None: unlimited);
    ``trusted_proxies``: addresses whose ``X-Forwarded-For`` is believed (a load balancer);
    ``max_sessions_per_address``: open Engine.IO sessions one client address may hold."""

    def __init__(self, tokens: TokenIssuer, users: Users | None = None,
                 throttle: Throttle | None = None, revoked=None,
                 hashing: HashingGate | None = None, trusted_proxies: Collection[str] = (),
                 max_sessions_per_address: int = 50, sessions: SessionStore | None = None):
        self.tokens = tokens
        self.sessions = sessions if sessions is not None else SessionStore.in_memory()
        self.users = users if users is not None else load_users()  # the demo's, by default
        self.throttle = throttle
        self.revoked = revoked if revoked is not None else RevokedTokens()
        self.hashing = hashing or HashingGate()
        self.trusted_proxies = frozenset(trusted_proxies)
        self.max_sessions_per_address = max_sessions_per_address  # a browser tab needs one
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
        # the connection lasts as long as the shortest-lived credential presented, and ends
        # when any of them is revoked: it keeps the token's id and the session's hash
        shortest = min(verdicts, key=lambda v: v.expires_at or float("inf"))
        return replace(shortest,
                       token_id=next((v.token_id for v in verdicts if v.token_id), None),
                       session_id=next((v.session_id for v in verdicts if v.session_id), None))

    def authorize_namespace(self, identity: Identity, namespace: str) -> Refusal | None:
        allowed = NAMESPACE_ROLES.get(namespace)
        if allowed is not None and identity.role not in allowed:
            return self._refuse("forbidden_namespace", [namespace])
        return None

    async def login(self, username: object, password: object, *,
                    client: str = "") -> Identity | Refusal:
        """For ``POST /login``: the identity behind a username and password, or a refusal;
        they are checked as a handshake's are (a lone surrogate is ``malformed_credentials``)."""
        return await self.authenticate([_password("login", username, password)], client=client)

    async def _check(self, credential: Presented, client: str) -> Identity | Refusal:
        if credential.token is not None:
            return await self._check_token(credential.token)
        if credential.session_id is not None:
            return await self._check_session(credential.session_id, credential.session)
        return await self._check_password(credential.username, credential.password, client)

    # --8<-- [start:password]
    async def _check_password(self, username: str, password: str,
                              client: str) -> Identity | Refusal:
        """Only an address and an account with attempts left get a check; only a wrong
        password is charged, to both. A throttled attempt costs nobody anything, so an address
        over its allowance cannot spend an account's, and a good login spends nothing. The
        check runs off the event loop, if the gate has room: a flood is refused, not queued."""
        user = self.users.get(username)
        try:
            if not await self._allowed(client, username):  # a flood of throttled attempts
                return Refusal("throttled")  # takes no place in the gate
            async with self.hashing.slot(client, username):
                # asked again in the slot: only the checks in the gate can pass on a count
                # that their own charges have not reached yet
                if not await self._allowed(client, username):
                    return Refusal("throttled")
                if await self.hashing.run(self._password_matches, user, password):
                    return Identity(user.name, user.role, authenticated_at=time.time())
                await self._charge(client, username)  # before the slot is given back
        except GateFull:
            return Refusal("busy")
        except ThrottleUnavailable:  # its store (Redis) is down: no attempt goes uncounted
            return Refusal("unavailable")
        return Refusal("bad_credentials")

    async def _allowed(self, client: str, username: str) -> bool:
        if not self.throttle:
            return True
        try:
            return await self.throttle.allows(client, username)
        except Exception as exc:
            log.warning("throttle unavailable: password check refused", exc_info=True)
            raise ThrottleUnavailable from exc

    async def _charge(self, client: str, username: str) -> None:
        if not self.throttle:
            return
        try:
            await self.throttle.failed(client, username)
        except Exception:  # refused all the same; the next attempt finds the store down
            log.warning("throttle unavailable: a failed attempt was not counted", exc_info=True)
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
        user = self.users.get(claims["sub"])
        if not user:
            return Refusal("bad_credentials")
        # PyJWT has read both times as numbers (it also takes "123"): kept as numbers
        identity = Identity(user.name, user.role, expires_at=float(claims["exp"]),
                            token_id=claims.get("jti"), authenticated_at=float(claims["iat"]))
        [ended] = await self.revoked.ended([identity])
        return Refusal(ended) if ended else identity

    async def _check_session(self, session_id: str, session: Mapping | None) -> Identity | Refusal:
        """A live session names its user; what names none (tampered, unknown, expired, logged
        out) is refused. The role is the user's own, as for a token."""
        user = self.users.get(session["user"]) if session is not None else None
        expires_at = session.created + session.max_age if user and session.max_age else None
        if user is None or (expires_at is not None and expires_at <= time.time()):
            return Refusal("invalid_session")
        identity = Identity(user.name, user.role, expires_at=expires_at, session_id=session_id,
                            authenticated_at=float(session["authenticated_at"]))
        [ended] = await self.revoked.ended([identity])
        return Refusal(ended) if ended else identity

    # --8<-- [start:still-valid]
    async def still_valid(self, identity: Identity) -> Refusal | None:
        """Checked again on every CONNECT, after the socket is registered for revocation: a
        credential that expired, was revoked, or whose user logged out everywhere since the
        handshake opens nothing more."""
        if identity.expires_at is not None and identity.expires_at <= time.time():
            return self._refuse(identity.expired_code, ["connect"])
        [ended] = await self.revoked.ended([identity])
        return self._refuse(ended, ["connect"]) if ended else None
    # --8<-- [end:still-valid]

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
