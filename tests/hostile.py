"""Hostile input as Hypothesis strategies, one per channel a client writes into, each carrying
what that channel can carry: lone surrogates as JSON's ``\\ud800`` escapes (a body, the
``auth`` payload), invalid UTF-8 percent-encoded (a query, a form, a cookie) or as raw bytes
(a header), NUL and control characters, values from a few bytes to past every size limit the
server enforces, JSON nested past Python's recursion limit, and JSON of the wrong type.

Placeholders for real tokens (``tests.cases``) and a live session are mixed in, so that hostile
input also rides next to a valid credential; the tests fill them in."""

import json
from urllib.parse import quote, quote_from_bytes

from hypothesis import strategies as st

from tests.cases import ALICE, BOB, EXPIRED, WRONG_KEY

TOKENS = [ALICE, BOB, EXPIRED, WRONG_KEY]
SESSION = "<session:alice>"  # the cookie of a live login session (the tests log in for it)

# ---- text --------------------------------------------------------------------------------------
CONTROLS = st.characters(max_codepoint=0x1F) | st.sampled_from(
    "\x7f\x85\xa0\u200b\u2028\u2029\ufeff\ufffd\ufffe\uffff\U0010ffff")
LONE_SURROGATES = st.characters(categories=["Cs"])
# Lengths around every limit: a credential (2 KiB), the login body (4 KiB), a request line or
# header (8190 bytes), a packet (64 KiB).
SIZES = [255, 256, 2048, 2049, 4096, 4097, 8190, 8191, 20_000, 65_536, 65_537]
LONG_CHARACTERS = ["a", "\x00", "\x7f", "é", "\ufffd"]  # a short repr: a long value prints short


def texts(surrogates: bool) -> st.SearchStrategy[str]:
    """Any text with control characters weighed in; lone surrogates only where the channel
    can carry them (a JSON escape), never where the text must first be UTF-8 (a URL). No
    credential: the strategies for a credential's place add those."""
    alphabet = CONTROLS | st.characters(exclude_categories=["Cs"])
    if surrogates:
        alphabet |= LONE_SURROGATES
    hostile = CONTROLS | LONE_SURROGATES if surrogates else CONTROLS
    short = st.text(alphabet, max_size=30)
    characters = [*LONG_CHARACTERS, "\ud800"] if surrogates else LONG_CHARACTERS
    overlong = st.tuples(st.sampled_from(SIZES), st.sampled_from(characters)).map(
        lambda sc: sc[1] * sc[0])
    marked = st.tuples(short, hostile, short).map("".join)  # one hostile character, surrounded
    return st.one_of(short, marked, overlong, st.sampled_from(["", "alice"]))


TEXT = texts(surrogates=False)
JSON_TEXT = texts(surrogates=True)

# ---- JSON --------------------------------------------------------------------------------------
# Past Python's recursion limit (1000), and under /login's 4 KiB body limit: 1001 and 2000.
# The most hostile first: Hypothesis shrinks towards a list's first item.
DEPTHS = [1001, 2000, 100_000, 1000, 990, 64, 2]
JSON_SCALARS = st.one_of(JSON_TEXT, st.none(), st.booleans(), st.integers(),
                         st.floats(allow_nan=True, allow_infinity=True),
                         st.sampled_from([10**400, -(2**63), 2**64]))
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(JSON_TEXT, inner, max_size=3),
    max_leaves=8)


def nested(depth: int, kind: str) -> str:
    return "[" * depth + "]" * depth if kind == "[" else '{"a":' * depth + "0" + "}" * depth


NESTED = st.builds(nested, st.sampled_from(DEPTHS), st.sampled_from("[{"))
MALFORMED_JSON = st.sampled_from(['{"token": ', "{", "[", '"\\ud800', '"\\x00"', "NaN", "-",
                                  "'single'", '{"a" 1}', "\x00", "\ufeff{}", "1e999999"])
# One JSON value as text: nested too deep, a hostile string, any value, or not quite JSON.
# ``json.dumps`` writes a lone surrogate as its ``\ud800`` escape, the only way JSON text in
# UTF-8 can carry it; ``ensure_ascii=False`` leaves it raw (its bytes are then not UTF-8).
JSON_FRAGMENTS = st.one_of(
    NESTED, JSON_TEXT.map(json.dumps), JSON_VALUES.map(json.dumps), MALFORMED_JSON,
    JSON_TEXT.map(lambda s: json.dumps(s, ensure_ascii=False)))


def json_object(fields: dict) -> str:
    """A JSON object's text from its fields' texts (which may be too deep, or not JSON)."""
    return "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in fields.items()) + "}"


# What /login and the ``auth`` payload read: a username and a password, or a token, each of
# any shape (a hostile string most often), next to a valid value or an unexpected key
CREDENTIAL_VALUES = JSON_TEXT.map(json.dumps) | JSON_FRAGMENTS
CREDENTIAL_OBJECTS = st.fixed_dictionaries(
    {"username": st.just('"alice"') | CREDENTIAL_VALUES, "password": CREDENTIAL_VALUES},
    optional={"token": CREDENTIAL_VALUES | st.sampled_from(TOKENS).map(json.dumps)},
).flatmap(lambda fields: st.dictionaries(JSON_TEXT, JSON_FRAGMENTS, max_size=2).map(
    lambda unexpected: json_object({**unexpected, **fields}))) | st.fixed_dictionaries(
    {"token": CREDENTIAL_VALUES}).map(json_object)
JSON_DOCUMENTS = st.one_of(CREDENTIAL_OBJECTS, JSON_FRAGMENTS)

# ---- percent-encoded: a query, a form, a cookie -------------------------------------------------
BAD_ESCAPES = ["%ff", "%fe", "%ed%a0%80", "%ed%bf%bf", "%c0%80", "%c0%af", "%e2%82", "%f4%90%80%80",
               "%00", "%0d%0a", "%zz", "%", "%f", "%2e%2e%2f", "%25", "+", "%2b", "&", "=", ";"]
ESCAPED = st.one_of(
    TEXT.map(lambda s: quote(s, safe="")),
    st.binary(max_size=40).map(lambda b: quote_from_bytes(b, safe="")),
    st.lists(st.sampled_from([*BAD_ESCAPES, "a"]), min_size=1, max_size=6).map("".join),
)
# a credential's place: tokens too, alone or next to bad escapes
ENCODED = ESCAPED | st.lists(st.sampled_from([*BAD_ESCAPES, *TOKENS]), min_size=1,
                             max_size=4).map("".join)

# ---- header values: raw bytes, everything but the CR and LF that end a header --------------
ODD_BYTES = [b"\x00", b"\x01", b"\x08", b"\t", b"\x1b", b"\x7f", b"\x80", b"\xff\xfe", b"\xc0\x80",
             b"\xed\xa0\x80", b"\xef\xbb\xbf", b" ", b",", b";", b"=", b'"', b"\\"]


def header_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate: the bytes CESU-8 writes


HEADER_VALUES = st.one_of(
    st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
    st.lists(st.sampled_from(ODD_BYTES), min_size=1, max_size=6).map(b"".join),
    JSON_TEXT.map(header_bytes).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
    st.sampled_from(SIZES).map(lambda n: b"v" * n),
)
PLACEHOLDERS = st.sampled_from(TOKENS).map(str.encode)
BEARERS = st.one_of(
    (PLACEHOLDERS | HEADER_VALUES).map(lambda v: b"Bearer " + v),
    st.tuples(st.sampled_from([b"bearer", b"BEARER", b"Basic", b"Bearer\x00", b""]),
              HEADER_VALUES).map(b" ".join),
    HEADER_VALUES,
)
COOKIE_NAMES = st.sampled_from([b"token", b"session", b"__Host-token", b"__Host-session"])
# the shape of a session id is 32 lower-case hex digits: these are near misses
SESSION_IDS = st.sampled_from([SESSION.encode(), b"0" * 32, b"F" * 32, b"f" * 31, b"f" * 33,
                               SESSION.encode() + b"\x00"])
COOKIE_VALUES = st.one_of(PLACEHOLDERS, SESSION_IDS, HEADER_VALUES,
                          ENCODED.map(str.encode))
COOKIES = st.one_of(
    st.lists(st.tuples(COOKIE_NAMES | HEADER_VALUES, COOKIE_VALUES), min_size=1, max_size=3)
    .map(lambda cookies: b"; ".join(name + b"=" + value for name, value in cookies)),
    HEADER_VALUES,
)
HOSTS = st.one_of(
    st.sampled_from([b"[", b"]", b"[::1", b"a]b", b"[::1]:x", b"[zz]", b"127.0.0.1:99999",
                     b"127.0.0.1:-1", b"127.0.0.1:", b":80", b"", b"%", b"%2e", b"localhost\x00",
                     b"evil.example", b"127.0.0.1@evil.example", b"127.0.0.1/x", b"127.0.0.1 x",
                     b"\xff"]),
    HEADER_VALUES)
ORIGINS = st.one_of(st.sampled_from([b"null", b"http://[", b"http://127.0.0.1:99999", b"http://",
                                     b"file://", b"http://evil.example"]),
                    HEADER_VALUES.map(lambda v: b"http://" + v), HEADER_VALUES)
