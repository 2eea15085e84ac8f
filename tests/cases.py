"""The handshake spec, as data: one row per case, run against both servers, shown in the docs.

A case says what the client presents and where (query, headers, the Socket.IO 3+ ``auth``
payload), which namespace it joins, and what must happen: a user name (accepted as that user)
or a refusal code from ``shared.policy.REFUSALS``. ``legacy`` overrides the expectation where
0.9 cannot do what 1.0+ does: it had no ``auth`` payload, so it never sees those credentials.
"""

from dataclasses import dataclass, field

from shared.policy.users import load_users

USERS = load_users()  # the demo's: alice (user) and bob (admin)

# --8<-- [start:tokens]
# Token placeholders; tests mint real tokens for them (tests/client.py, mint_tokens).
ALICE = "<token:alice>"  # valid, role user
BOB = "<token:bob>"  # valid, role admin
EXPIRED = "<token:expired>"  # alice, expired a minute ago
WRONG_KEY = "<token:wrong-key>"  # alice, signed with another secret
UNKNOWN_USER = "<token:unknown-user>"  # signed by us, for a user who does not exist
NO_EXPIRY = "<token:no-expiry>"  # alice, signed by us, without the required exp claim
# --8<-- [end:tokens]


@dataclass(frozen=True)
class HandshakeCase:
    id: str
    carrier: str
    expect: str
    query: tuple[tuple[str, str], ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    auth: object = None
    namespace: str = "/"
    legacy: str | None = None  # what 0.9 does instead, where it differs by design
    note: str = ""

    def expected(self, server: str) -> str:
        return self.legacy if server == "legacy" and self.legacy else self.expect

    @property
    def accepted_as(self) -> str | None:
        return self.expect if self.expect in USERS else None


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def cookie(value: str) -> dict[str, str]:
    return {"Cookie": value}


# engine.io 6 keeps the last value of a repeated query name; 0.9's querystring made a list
REPEATED = "4.8's handshake.query keeps the last value of a repeated name; 0.9's was a list"

# --8<-- [start:cases]
CASES = [
    # The 2012 question: login data in the handshake query.
    HandshakeCase("query-password-valid", "query password", "alice",
                  query=(("username", "alice"), ("password", "wonderland"))),
    HandshakeCase("query-password-admin", "query password", "bob",
                  query=(("username", "bob"), ("password", "builder"))),
    HandshakeCase("query-password-wrong", "query password", "bad_credentials",
                  query=(("username", "alice"), ("password", "looking-glass"))),
    HandshakeCase("query-password-unknown-user", "query password", "bad_credentials",
                  query=(("username", "mallory"), ("password", "wonderland"))),
    HandshakeCase("query-password-missing-password", "query password", "malformed_credentials",
                  query=(("username", "alice"),)),
    HandshakeCase("query-password-empty", "query password", "malformed_credentials",
                  query=(("username", "alice"), ("password", ""))),
    HandshakeCase("query-password-duplicated", "query password", "alice",
                  query=(("username", "alice"), ("password", "nope"),
                         ("password", "wonderland")),
                  legacy="malformed_credentials", note=REPEATED),
    HandshakeCase("query-password-non-ascii", "query password", "bad_credentials",
                  query=(("username", "alice"), ("password", "wünderland ✓"))),
    HandshakeCase("query-password-non-ascii-user", "query password", "bad_credentials",
                  query=(("username", "ålice"), ("password", "wonderland"))),
    HandshakeCase("query-password-long", "query password", "malformed_credentials",
                  query=(("username", "alice"), ("password", "x" * 3000))),
    HandshakeCase("query-password-case-sensitive-user", "query password", "bad_credentials",
                  query=(("username", "Alice"), ("password", "wonderland"))),
    # Tokens in the query string (socketio-jwt's "one roundtrip" handshake mode).
    HandshakeCase("query-token-valid", "query token", "alice", query=(("token", ALICE),)),
    HandshakeCase("query-token-admin", "query token", "bob", query=(("token", BOB),)),
    HandshakeCase("query-token-expired", "query token", "expired_token",
                  query=(("token", EXPIRED),)),
    HandshakeCase("query-token-wrong-key", "query token", "bad_credentials",
                  query=(("token", WRONG_KEY),)),
    HandshakeCase("query-token-unknown-user", "query token", "bad_credentials",
                  query=(("token", UNKNOWN_USER),)),
    HandshakeCase("query-token-no-expiry", "query token", "bad_credentials",
                  query=(("token", NO_EXPIRY),)),
    HandshakeCase("query-token-garbage", "query token", "malformed_credentials",
                  query=(("token", "not-a-jwt"),)),
    HandshakeCase("query-token-empty", "query token", "malformed_credentials",
                  query=(("token", ""),)),
    HandshakeCase("query-token-duplicated", "query token", "bob",
                  query=(("token", ALICE), ("token", BOB)),
                  legacy="malformed_credentials", note=REPEATED),
    HandshakeCase("query-token-long", "query token", "malformed_credentials",
                  query=(("token", "e" * 3000),)),
    HandshakeCase("query-token-non-ascii", "query token", "malformed_credentials",
                  query=(("token", "jeton-é✓"),)),
    # The Authorization header (polling requests in browsers; every request elsewhere).
    HandshakeCase("header-token-valid", "authorization header", "alice", headers=bearer(ALICE)),
    HandshakeCase("header-token-expired", "authorization header", "expired_token",
                  headers=bearer(EXPIRED)),
    HandshakeCase("header-token-wrong-key", "authorization header", "bad_credentials",
                  headers=bearer(WRONG_KEY)),
    HandshakeCase("header-not-bearer", "authorization header", "malformed_credentials",
                  headers={"Authorization": "Basic YWxpY2U6d29uZGVybGFuZA=="}),
    HandshakeCase("header-bearer-empty", "authorization header", "malformed_credentials",
                  headers={"Authorization": "Bearer "}),
    # The cookie POST /login sets.
    HandshakeCase("cookie-token-valid", "cookie", "alice", headers=cookie(f"token={ALICE}")),
    HandshakeCase("cookie-token-among-others", "cookie", "bob",
                  headers=cookie(f"theme=dark; token={BOB}; lang=en")),
    HandshakeCase("cookie-token-expired", "cookie", "expired_token",
                  headers=cookie(f"token={EXPIRED}")),
    HandshakeCase("cookie-token-garbage", "cookie", "malformed_credentials",
                  headers=cookie("token=garbage")),
    HandshakeCase("cookie-token-duplicated", "cookie", "malformed_credentials",
                  headers=cookie(f"token={ALICE}; token={BOB}")),
    HandshakeCase("cookie-without-token", "cookie", "missing_credentials",
                  headers=cookie("theme=dark; lang=en")),
    HandshakeCase("cookie-malformed-header", "cookie", "missing_credentials",
                  headers=cookie(";;==;theme")),
    # Nothing at all.
    HandshakeCase("no-credentials", "none", "missing_credentials"),
    HandshakeCase("unrelated-query", "none", "missing_credentials", query=(("foo", "bar"),)),
    # More than one carrier: all must be valid and name the same user.
    HandshakeCase("carriers-agree", "query token + header", "alice",
                  query=(("token", ALICE),), headers=bearer(ALICE)),
    HandshakeCase("carriers-conflict", "query token + cookie", "conflicting_credentials",
                  query=(("token", ALICE),), headers=cookie(f"token={BOB}")),
    HandshakeCase("carriers-one-bad", "query password + cookie", "bad_credentials",
                  query=(("username", "alice"), ("password", "nope")),
                  headers=cookie(f"token={ALICE}")),
    # Namespaces: /admin admits role admin only.
    HandshakeCase("admin-as-admin", "query token", "bob", query=(("token", BOB),),
                  namespace="/admin"),
    HandshakeCase("admin-as-user", "query token", "forbidden_namespace",
                  query=(("token", ALICE),), namespace="/admin"),
    HandshakeCase("admin-without-credentials", "none", "missing_credentials",
                  namespace="/admin"),
    HandshakeCase("admin-password-as-admin", "query password", "bob",
                  query=(("username", "bob"), ("password", "builder")), namespace="/admin"),
    # The auth payload exists since Socket.IO 3: only the middleware server can read it.
    HandshakeCase("auth-token-valid", "auth payload", "alice", auth={"token": ALICE},
                  legacy="missing_credentials", note="0.9 had no auth payload"),
    HandshakeCase("auth-password-valid", "auth payload", "bob",
                  auth={"username": "bob", "password": "builder"},
                  legacy="missing_credentials", note="0.9 had no auth payload"),
    HandshakeCase("auth-token-expired", "auth payload", "expired_token",
                  auth={"token": EXPIRED}, legacy="missing_credentials",
                  note="0.9 had no auth payload"),
    HandshakeCase("auth-token-not-a-string", "auth payload", "malformed_credentials",
                  auth={"token": 42}, legacy="missing_credentials",
                  note="0.9 had no auth payload"),
    HandshakeCase("auth-admin-as-user", "auth payload", "forbidden_namespace",
                  auth={"token": ALICE}, namespace="/admin", legacy="missing_credentials",
                  note="0.9 had no auth payload"),
    HandshakeCase("auth-with-query-conflict", "auth payload + query token",
                  "conflicting_credentials", query=(("token", ALICE),), auth={"token": BOB},
                  legacy="alice", note="0.9 sees only the query token"),
]
# --8<-- [end:cases]


# --8<-- [start:session-cases]
@dataclass(frozen=True)
class SessionCase:
    """A handshake whose credential is the session cookie, run on all four servers (the
    Python ones by tests/test_session_cookie.py, the Node ones by
    tests/test_originals_sessions.py). ``session`` says what the client sends, by kind; each
    runner makes that cookie for its server, under the name its session library gives it
    (``session`` in Python, ``connect.sid`` on Node): ``good`` is a fresh ``POST /login``'s.
    ``expect``: a user name or a refusal code, the same on every server. ``origin``: the page
    it comes from, when not the server's own; ``transport``: how the handshake travels."""

    id: str
    session: str
    expect: str
    origin: str | None = None
    transport: str = "polling"
    note: str = ""


FOREIGN_ORIGIN = "http://evil.example"

SESSION_CASES = [
    SessionCase("session-none", "none", "missing_credentials", note="no cookie at all"),
    SessionCase("session-good", "good", "alice"),
    SessionCase("session-good-websocket", "good", "alice", transport="websocket"),
    SessionCase("session-tampered", "tampered", "invalid_session",
                note="a live session's cookie, one character changed"),
    SessionCase("session-unsigned", "unsigned", "invalid_session",
                note="not of the shape this server makes: Node's id without its signature, "
                     "Python's `abc`"),
    SessionCase("session-unknown", "unknown", "invalid_session",
                note="of the right shape, for an id no login made"),
    SessionCase("session-expired", "expired", "invalid_session",
                note="accepted until its lifetime (--session-ttl) is over"),
    SessionCase("session-logged-out", "logged-out", "invalid_session",
                note="POST /logout ended it"),
    SessionCase("session-duplicated", "duplicated", "malformed_credentials",
                note="two live sessions' cookies: which one is meant is not guessed"),
    SessionCase("session-with-token-of-another-user", "good+bob-token",
                "conflicting_credentials", note="a token of bob's in the query as well"),
    SessionCase("session-foreign-origin-polling", "good", "foreign_origin",
                origin=FOREIGN_ORIGIN, note="another site's page, with the user's cookie"),
    SessionCase("session-foreign-origin-websocket", "good", "foreign_origin",
                origin=FOREIGN_ORIGIN, transport="websocket"),
]
# --8<-- [end:session-cases]
