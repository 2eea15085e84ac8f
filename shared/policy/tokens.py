"""Signed, expiring login tokens (JWT, HS256), issued and checked by PyJWT.

``verify`` is ``jwt.decode`` with the one algorithm this issuer uses and the claims it
requires: a token signed with ``alg: none`` or any other algorithm is refused, and so is one
that lacks ``sub``, ``exp`` or ``iat`` (tests/test_tokens.py, a table of forged tokens).
"""

import os
import secrets
import time
from dataclasses import dataclass

import jwt

ALGORITHM = "HS256"
DEFAULT_TTL_SECONDS = 15 * 60
REQUIRED_CLAIMS = ("sub", "exp", "iat")


def secret_from_environment() -> bytes:
    """TOKEN_SECRET when set (both demo servers share it), else a fresh random secret.

    A random secret means tokens are valid only on the process that issued them: safe by
    default, and never a secret written in the source for someone to copy.
    """
    value = os.environ.get("TOKEN_SECRET")
    return value.encode() if value else secrets.token_bytes(32)


@dataclass(frozen=True)
class TokenIssuer:
    secret: bytes
    ttl_seconds: int = DEFAULT_TTL_SECONDS

    def __post_init__(self):
        if len(self.secret) < 32:  # RFC 7518 3.2: an HS256 key has at least 256 bits
            raise ValueError("the token secret must be at least 32 bytes")

    def issue(self, user: str, role: str, *, now: float | None = None) -> str:
        # ``iat`` keeps its fraction (a NumericDate may, RFC 7519): "log out everywhere" ends
        # what was issued before it, and a login in the same second after it must survive
        issued_at = time.time() if now is None else now
        claims = {"sub": user, "role": role, "iat": issued_at,
                  "exp": issued_at + self.ttl_seconds, "jti": secrets.token_urlsafe(12)}
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> dict:
        """The claims of a valid token; raises a ``jwt.InvalidTokenError`` that says why
        otherwise (``ExpiredSignatureError``, ``InvalidSignatureError``, ``DecodeError``…)."""
        return jwt.decode(token, self.secret, algorithms=[ALGORITHM],
                          options={"require": list(REQUIRED_CLAIMS)})
