"""Signed, expiring login tokens (JWT, HS256).

PyJWT signs them. Checking them is done here, with the standard library: the one header this
issuer writes, one HMAC, the claims it requires. ``jwt.decode`` does the same and more (key
preparation, algorithm tables, option merging) at several times the cost, on every handshake;
tests/test_tokens.py checks that both give the same refusal code over a table of forged
tokens, random one-character edits of a valid one and random signed claims (stricter in two
declared cases).
"""

import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from dataclasses import dataclass, field

import jwt

ALGORITHM = "HS256"
DEFAULT_TTL_SECONDS = 15 * 60
REQUIRED_CLAIMS = ("sub", "exp", "iat")
# three segments of base64url without padding (RFC 7515, section 2)
COMPACT_JWS = re.compile(r"([A-Za-z0-9_-]*)\.([A-Za-z0-9_-]*)\.([A-Za-z0-9_-]*)")
# What PyJWT writes for this issuer's header, {"alg":"HS256","typ":"JWT"}: a token that has it
# needs no header parsing (tests/test_tokens.py checks that issued tokens carry it).
ISSUED_HEADER = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"


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
    # HMAC with the key already prepared: each check copies it (half the cost of hmac.digest)
    _mac: hmac.HMAC = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if len(self.secret) < 32:  # RFC 7518 3.2: an HS256 key has at least 256 bits
            raise ValueError("the token secret must be at least 32 bytes")
        object.__setattr__(self, "_mac", hmac.new(self.secret, digestmod=hashlib.sha256))

    def issue(self, user: str, role: str, *, now: float | None = None) -> str:
        issued_at = int(time.time() if now is None else now)
        claims = {"sub": user, "role": role, "iat": issued_at, "exp": issued_at + self.ttl_seconds,
                  "jti": secrets.token_urlsafe(12)}
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> dict:
        """The claims of a valid token; raises the ``jwt.InvalidTokenError`` subclass
        ``jwt.decode`` would raise otherwise. The signature is checked before anything in the
        token is believed; an ``alg`` other than HS256 (``none`` included) is refused."""
        compact = COMPACT_JWS.fullmatch(token) if isinstance(token, str) else None
        if compact is None:
            raise jwt.DecodeError("not a compact JWS")
        header_part, payload_part, signature_part = compact.groups()
        if header_part != ISSUED_HEADER:  # the header every token issued here has passes these
            _check_header(_json_object(_decode(header_part), "header"))
        payload, signature = _decode(payload_part), _decode(signature_part)
        mac = self._mac.copy()
        mac.update(f"{header_part}.{payload_part}".encode())
        if not hmac.compare_digest(mac.digest(), signature):
            raise jwt.InvalidSignatureError("Signature verification failed")
        claims = _json_object(payload, "payload")
        _check_claims(claims, time.time())
        return claims


def _check_header(header: dict) -> None:
    if header.get("b64") is False:  # RFC 7797's detached payload: never issued here
        raise jwt.DecodeError("unencoded payloads are not accepted")
    if not isinstance(header.get("kid", ""), str):
        raise jwt.InvalidTokenError("Key ID header parameter must be a string")
    if "crit" in header:  # RFC 7515 4.1.11: extensions this verifier does not know
        raise jwt.InvalidTokenError("unsupported critical header")
    if header.get("alg") != ALGORITHM:
        raise jwt.InvalidAlgorithmError("the algorithm is not HS256")


# The last character of a canonical base64url segment, by its length modulo 4: with 2 or 3
# left over, its unused low bits are zero. (1 left over is never valid.)
LAST_CHARACTERS = {2: frozenset("AQgw"), 3: frozenset("AEIMQUYcgkosw048")}
URLSAFE_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
JSON = json.JSONDecoder()


def _decode(segment: str) -> bytes:
    """Canonical base64url only: one token has one spelling. ``segment`` is base64url."""
    left_over = len(segment) % 4
    if left_over == 1 or (left_over and segment[-1] not in LAST_CHARACTERS[left_over]):
        raise jwt.DecodeError("invalid base64url")
    # base64.urlsafe_b64decode's own steps, without its checks of what is already checked
    standard = segment.encode().translate(URLSAFE_TO_STANDARD)
    return binascii.a2b_base64(standard + b"=" * (-len(segment) % 4))


def _json_object(data: bytes, what: str) -> dict:
    try:
        if data[:1] == b"{" and data[1:2] != b"\x00":  # what json.loads reads as UTF-8:
            value = JSON.decode(data.decode("utf-8", "surrogatepass"))  # decoded as it does
        else:
            value = json.loads(data)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past the stack
        raise jwt.DecodeError(f"invalid {what}") from None
    if not isinstance(value, dict):
        raise jwt.DecodeError(f"the {what} is not a JSON object")
    return value


def _check_claims(claims: dict, now: float) -> None:
    """What ``jwt.decode(..., options={"require": REQUIRED_CLAIMS})`` checks, no leeway.
    Stricter in one way: a time claim must be a JSON number (PyJWT also takes "123")."""
    for name in REQUIRED_CLAIMS:
        if claims.get(name) is None:
            raise jwt.MissingRequiredClaimError(name)
    for name in ("iat", "nbf", "exp"):  # in PyJWT's order, so that errors are named alike
        if name in claims:
            when = _numeric_date(claims[name], name)
            if name == "exp" and when <= now:
                raise jwt.ExpiredSignatureError("Signature has expired")
            if name != "exp" and when > now:
                raise jwt.ImmatureSignatureError(f"The token is not yet valid ({name})")
    if claims.get("aud"):  # no audience is expected: PyJWT refuses a token that names one
        raise jwt.InvalidAudienceError("Invalid audience")
    if not isinstance(claims["sub"], str):
        raise jwt.exceptions.InvalidSubjectError("Subject must be a string")
    if not isinstance(claims.get("jti", ""), str):
        raise jwt.exceptions.InvalidJTIError("JWT ID must be a string")


def _numeric_date(value, name: str) -> int:
    if not isinstance(value, int | float) or value != value or abs(value) == float("inf"):
        error = jwt.InvalidIssuedAtError if name == "iat" else jwt.DecodeError
        raise error(f"{name} must be a number")
    return int(value)
