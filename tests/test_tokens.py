"""The policy's verdict on every token a client can send: PyJWT's ``jwt.decode`` checks the
signature and the claims, the policy turns its errors into the refusal code a client reads,
and refuses a revoked token or an unknown user."""

import base64
import json
import time

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.policy import REFUSALS, Identity, Policy
from shared.policy.tokens import REQUIRED_CLAIMS, TokenIssuer
from tests.cases import USERS

SECRET = b"k" * 32
OTHER_SECRET = b"o" * 32
POLICY = Policy(TokenIssuer(SECRET), users=USERS)


async def verdict(token: str) -> str:
    """``accepted``, or the refusal code."""
    answer = await POLICY._check_token(token)
    return "accepted" if isinstance(answer, Identity) else answer.code


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed(claims, header=None, secret=SECRET) -> str:
    """Any header and payload, signed: what only a holder of the secret could make."""
    return jwt.api_jws.encode(json.dumps(claims).encode(), secret, algorithm="HS256",
                              headers=header, sort_headers=False)


def raw(header, payload: bytes, secret=SECRET) -> str:
    """A header as given (``alg`` included) and raw payload bytes, signed with HS256."""
    import hashlib
    import hmac

    signing_input = f"{b64(json.dumps(header).encode())}.{b64(payload)}"
    return f"{signing_input}.{b64(hmac.digest(secret, signing_input.encode(), hashlib.sha256))}"


def unused_bit_set(segment: str) -> str:
    """The same bytes, spelled with a low bit set that base64url leaves unused at the end."""
    last = BASE64URL.index(segment[-1])
    return segment[:-1] + BASE64URL[last ^ 1]


BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
NOW = int(time.time())  # when the tokens are made, at collection
LATER = NOW + 86_400  # still in the future when the last test runs
GOOD = {"sub": "alice", "role": "user", "iat": NOW, "exp": LATER, "jti": "j1"}
VALID = TokenIssuer(SECRET, ttl_seconds=86_400).issue("alice", "user")  # valid all run long
H, P, S = VALID.split(".")

TOKENS = {
    "valid": VALID,
    "valid, floats for times": signed({**GOOD, "iat": NOW - 0.5, "exp": LATER + 0.7}),
    "expired": signed({**GOOD, "exp": NOW - 1}),
    "expires now": signed({**GOOD, "exp": NOW}),
    "issued in the future": signed({**GOOD, "iat": LATER}),
    "not before the future": signed({**GOOD, "nbf": LATER}),
    "not before the past": signed({**GOOD, "nbf": NOW - 60}),
    **{f"no {claim}": signed({k: v for k, v in GOOD.items() if k != claim})
       for claim in REQUIRED_CLAIMS},
    "null sub": signed({**GOOD, "sub": None}),
    "sub a number": signed({**GOOD, "sub": 7}),
    "jti a number": signed({**GOOD, "jti": 7}),
    "unknown user": signed({**GOOD, "sub": "mallory"}),
    "an audience": signed({**GOOD, "aud": "someone"}),
    "an empty audience": signed({**GOOD, "aud": []}),
    "exp true": signed({**GOOD, "exp": True}),
    "exp a list": signed({**GOOD, "exp": [LATER]}),
    "iat an object": signed({**GOOD, "iat": {}}),
    "exp huge": signed({**GOOD, "exp": 10**30}),
    "payload a list": raw({"alg": "HS256"}, b"[1, 2]"),
    "payload not JSON": raw({"alg": "HS256"}, b"{nope"),
    "payload not UTF-8": raw({"alg": "HS256"}, b'{"sub": "\xff"}'),
    # json.loads reads bytes in any UTF: the payload is decoded as it would be
    "payload in UTF-16": raw({"alg": "HS256"}, json.dumps(GOOD).encode("utf-16-le")),
    "payload with a BOM": raw({"alg": "HS256"}, b"\xef\xbb\xbf" + json.dumps(GOOD).encode()),
    "payload with a lone surrogate": raw({"alg": "HS256"},
                                         json.dumps({**GOOD, "role": "\ud800"}).encode()),
    "payload with an encoded surrogate": raw({"alg": "HS256"},
                                             b'{"sub": "alice", "x": "\xed\xa0\x80"}'),
    "alg none": f"{b64(json.dumps({'alg': 'none'}).encode())}.{P}.",
    "alg HS512": jwt.encode(GOOD, SECRET * 2, algorithm="HS512"),
    "alg missing": raw({"typ": "JWT"}, json.dumps(GOOD).encode()),
    "alg hs256": raw({"alg": "hs256"}, json.dumps(GOOD).encode()),
    "crit header": raw({"alg": "HS256", "crit": ["exp"]}, json.dumps(GOOD).encode()),
    "b64 false": raw({"alg": "HS256", "b64": False, "crit": ["b64"]}, json.dumps(GOOD).encode()),
    "kid a number": raw({"alg": "HS256", "kid": 3}, json.dumps(GOOD).encode()),
    "kid a string": raw({"alg": "HS256", "kid": "k"}, json.dumps(GOOD).encode()),
    "header a list": f"{b64(b'[1]')}.{P}.{S}",
    "header nested past the stack": f"{b64(b'[' * 1100)}.{P}.{S}",
    "wrong key": TokenIssuer(OTHER_SECRET).issue("alice", "user"),
    "payload swapped": f"{H}.{signed({**GOOD, 'sub': 'bob'}).split('.')[1]}.{S}",
    "signature cut": f"{H}.{P}.{S[:-2]}",
    "signature spelled another way": f"{H}.{P}.{unused_bit_set(S)}",
    "header spelled another way": f"{unused_bit_set(H)}.{P}.{S}",
    "signature empty": f"{H}.{P}.",
    "two segments": f"{H}.{P}",
    "four segments": f"{VALID}.{S}",
    "empty": "",
    "dots": "..",
    "spaces": f" {VALID} ",
}

# What the policy answers each token above; every other one is ``bad_credentials``: a wrong
# signature or algorithm, a missing or unreadable claim, an unknown user.
ACCEPTED = {"valid", "valid, floats for times", "not before the past", "an empty audience",
            "exp huge", "payload in UTF-16", "payload with a BOM",
            "payload with a lone surrogate", "kid a string"}
EXPIRED = {"expired", "expires now", "exp true"}  # PyJWT reads true as 1
MALFORMED = {"exp a list", "payload a list", "payload not JSON", "payload not UTF-8",
             "b64 false", "header a list", "header nested past the stack", "signature cut",
             "signature spelled another way", "header spelled another way", "two segments",
             "four segments", "empty", "dots", "spaces"}


def expected(name: str) -> str:
    if name in ACCEPTED:
        return "accepted"
    if name in EXPIRED:
        return "expired_token"
    return "malformed_credentials" if name in MALFORMED else "bad_credentials"


def test_the_expectations_name_only_tokens_of_the_table():
    assert TOKENS.keys() >= (ACCEPTED | EXPIRED | MALFORMED)


@pytest.mark.parametrize("name", TOKENS)
async def test_the_policy_answers_each_token_with_its_code(name):
    assert await verdict(TOKENS[name]) == expected(name)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(VALID) - 1), st.sampled_from(["delete", "insert", "replace"]),
       st.sampled_from(BASE64URL + "."))
async def test_every_edit_of_a_valid_token_is_refused(position, edit, char):
    token = {"delete": VALID[:position] + VALID[position + 1:],
             "insert": VALID[:position] + char + VALID[position:],
             "replace": VALID[:position] + char + VALID[position + 1:]}[edit]
    answer = await verdict(token)
    if token == VALID:  # a character replaced with itself
        assert answer == "accepted"
    else:
        assert answer in ("bad_credentials", "malformed_credentials")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False)
    | st.text(max_size=5), lambda inner: st.lists(inner, max_size=2), max_leaves=3)


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({}, optional={
    "sub": st.sampled_from(["alice", "bob", "mallory"]) | json_values,
    "iat": st.sampled_from([NOW - 5, LATER]) | json_values,
    "exp": st.sampled_from([LATER, NOW - 5]) | json_values,
    "nbf": st.sampled_from([NOW - 5, LATER]) | json_values,
    "jti": st.text(max_size=4) | json_values, "aud": json_values, "role": json_values}))
async def test_any_signed_claims_get_an_identity_or_a_refusal_code(claims):
    """Whatever a holder of the secret signs, the policy answers, and accepts only a known
    user with every required claim."""
    answer = await verdict(signed(claims))
    assert answer in {"accepted", *REFUSALS}
    if answer == "accepted":
        assert claims["sub"] in ("alice", "bob") and claims.keys() >= set(REQUIRED_CLAIMS)
