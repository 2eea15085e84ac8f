"""Property-based parity with Hypothesis: generated handshakes, garbage included.

1. Without an ``auth`` payload (which 0.9 did not have), both servers give the same verdict.
2. With anything at all, no server accepts a handshake that carries no valid credential of
   the user it accepts (fail closed), and every answer is a clear one.

``make test`` runs a quick profile; ``make fuzz`` runs 10,000 examples per property and
implementation and prints Hypothesis' statistics (the example counts).
"""

import json
from urllib.parse import urlencode

from hypothesis import given
from hypothesis import strategies as st

from tests.cases import ALICE, BOB, EXPIRED, NO_EXPIRY, UNKNOWN_USER, WRONG_KEY
from tests.client import fill
from tests.raw_client import raw_handshake

VALID = {ALICE: "alice", BOB: "bob"}
PASSWORDS = {("alice", "wonderland"), ("bob", "builder")}

printable = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40)
# any Unicode but lone surrogates, which no URL or UTF-8 body can carry
anything = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
values = st.one_of(
    st.sampled_from([ALICE, BOB, EXPIRED, WRONG_KEY, UNKNOWN_USER, NO_EXPIRY]),
    st.sampled_from(["alice", "bob", "mallory", "wonderland", "builder", "", "Bearer"]),
    anything,
    st.text(min_size=2100, max_size=2500, alphabet="abc."),  # over the credential length cap
)
names = st.one_of(st.sampled_from(["token", "username", "password", "foo", "t"]), printable)
queries = st.lists(st.tuples(names, values), max_size=4)
# a repeated name is read differently by design (0.9: a list; 4.8: the last value)
distinct_queries = st.lists(st.tuples(names, values), max_size=4, unique_by=lambda kv: kv[0])
ascii_values = st.one_of(st.sampled_from([ALICE, BOB, EXPIRED, WRONG_KEY, "", "garbage"]),
                         printable)
headers = st.fixed_dictionaries({}, optional={
    "Authorization": st.one_of(ascii_values.map(lambda v: f"Bearer {v}"), ascii_values),
    "Cookie": st.one_of(ascii_values.map(lambda v: f"token={v}"),
                        st.tuples(printable, ascii_values).map(lambda p: f"{p[0]}; token={p[1]}"),
                        printable),
})
json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), values),
                           lambda inner: st.lists(inner, max_size=3), max_leaves=6)
auths = st.one_of(
    st.none(),
    st.fixed_dictionaries({}, optional={"token": json_values, "username": json_values,
                                        "password": json_values}),
    json_values,
)


def valid_users(query, header_map, auth) -> set[str]:
    """Independently of the policy: for which users does this handshake present a valid
    credential, in a place a credential can travel?"""
    found = {VALID[v] for k, v in query if k == "token" and v in VALID}
    found |= {u for u, p in PASSWORDS if ("username", u) in query and ("password", p) in query}
    bearer = header_map.get("Authorization", "")
    found |= {VALID[t] for t in VALID if bearer == f"Bearer {t}"}
    cookies = [c.strip() for c in header_map.get("Cookie", "").split(";")]
    found |= {VALID[t] for t in VALID if f"token={t}" in cookies}
    if isinstance(auth, dict):
        token = auth.get("token")
        found |= {VALID[token]} if isinstance(token, str) and token in VALID else set()
        pair = (auth.get("username"), auth.get("password"))
        if all(isinstance(p, str) for p in pair) and pair in PASSWORDS:
            found.add(pair[0])
    return found


async def send(url, tokens, query, header_map, auth):
    """Send the handshake with real tokens in place of the placeholders."""
    auth = fill(auth, tokens)
    answer = await raw_handshake(url, query=urlencode(fill(tuple(query), tokens)),
                                 headers=fill(header_map, tokens),
                                 auth=None if auth is None else json.dumps(auth))
    clear = answer.connected or answer.connect_error is not None or answer.status != 200
    assert clear, f"no clear answer: {answer}"
    return answer


@given(query=distinct_queries, header_map=headers)
async def test_without_auth_both_servers_give_the_same_verdict(both_servers, tokens, refusals,
                                                               query, header_map):
    verdicts = {}
    for name, url in both_servers.items():
        logged = len(refusals.codes)
        answer = await send(url, tokens, query, header_map, None)
        reason = refusals.codes[-1] if len(refusals.codes) > logged else None
        verdicts[name] = (answer.connected, (answer.welcome or {}).get("user"),
                          None if answer.connected else reason)
    assert verdicts["legacy"] == verdicts["middleware"]


@given(query=queries, header_map=headers, auth=auths)
async def test_nothing_is_accepted_without_a_valid_credential_of_that_user(server, tokens,
                                                                           query, header_map,
                                                                           auth):
    answer = await send(server, tokens, query, header_map, auth)
    if answer.connected:  # judged on the placeholders: which user's valid credential was sent
        user = answer.welcome["user"]
        assert user in valid_users(query, header_map, auth), user
