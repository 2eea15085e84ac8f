"""The case table on the real servers: the JavaScript originals on socket.io 0.9.19 and 4.8
decide every case of ``tests/cases.py`` as the Python servers do, and refuse the same way on
the wire: the same HTTP answer for 0.9 (status, body, CORS headers), the same ``connect_error``
payload for 4.8, as the Python client receives them."""

from urllib.parse import urlencode

import pytest
from multidict import CIMultiDict

from shared.policy import REFUSALS
from tests.cases import CASES, HandshakeCase
from tests.client import TEST_SECRET, Verdict, attempt, fill
from tests.client09 import Answer09, connect09
from tests.implementations import LEGACY, MIDDLEWARE
from tests.node import NodeServer
from tests.oracle.differences import ORIGIN
from tests.raw_client import raw_handshake

APPS = {"0.9": "originals/v0.9/app.js", "4.8": "originals/v4/app.js"}


@pytest.fixture(scope="module")
def node_app():
    """The JavaScript original of an era, started once for the module, with the test secret."""
    running: dict[str, NodeServer] = {}

    def app(era: str) -> NodeServer:
        if era not in running:
            running[era] = NodeServer(APPS[era], "--allow-origin", ORIGIN,
                                      env={"TOKEN_SECRET": TEST_SECRET.decode()})
        return running[era]

    yield app
    for node in running.values():
        node.stop()


async def node09(node: NodeServer, case: HandshakeCase, tokens, headers=None) -> Answer09:
    """0.9 had no ``auth`` payload: its client sends only the query and the headers (and an
    allowed page's Origin: the app's `origins` list refuses a handshake without one)."""
    return await connect09(node.url, query=urlencode(fill(case.query, tokens)),
                           headers=CIMultiDict({"Origin": ORIGIN, **fill(case.headers, tokens),
                                                **(headers or {})}),
                           namespace=case.namespace)


def verdict09(answer: Answer09, node: NodeServer, logged_before: int) -> Verdict:
    if answer.welcome:
        return Verdict(True, answer.welcome["user"], answer.welcome["role"])
    codes = node.refusals_after(logged_before)  # the reason lives only in the server's log
    return Verdict(False, reason=codes[-1] if codes else None)


def verdict4(payload: dict | None) -> Verdict:
    """The 4.8 app says why in ``err.data.code``, with the policy's message."""
    code = payload["data"]["code"]
    assert payload["message"] == REFUSALS[code], payload
    return Verdict(False, reason=code)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
async def test_node_0_9_decides_every_case_as_the_python_legacy_server(case, tokens, node_app):
    node = node_app("0.9")
    logged = len(node.refusal_codes())
    answer = await node09(node, case, tokens)
    assert verdict09(answer, node, logged) == Verdict.expected(case.expected("legacy")), answer


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
async def test_node_4_8_decides_every_case_as_the_python_middleware_server(case, tokens,
                                                                          node_app, refusals):
    result = await attempt(node_app("4.8").url, case, tokens, refusals)
    seen = verdict4(result.connect_error) if result.connect_error else result.verdict
    assert seen == Verdict.expected(case.expected("middleware")), result.seen


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
async def test_a_0_9_refusal_looks_the_same_on_the_wire(case, tokens, node_app, servers):
    """Status, content type, body and CORS headers of the handshake answer; then, for a
    namespace, the error packet's reason."""
    python = await servers.app(LEGACY, allowed_origins=[ORIGIN])
    origin = {"Origin": ORIGIN}
    real = await node09(node_app("0.9"), case, tokens, origin)
    query = urlencode(fill(case.query, tokens))
    ours = await raw_handshake(python, query=query, namespace=case.namespace,
                               headers={**fill(case.headers, tokens), **origin})
    assert (ours.status, ours.cors) == (real.status, real.cors)
    if real.status != 200:
        assert (ours.content_type, ours.body) == (real.content_type, real.body)
    else:  # connected, or refused by the namespace: 'unauthorized'
        assert (ours.connect_error or {}).get("message") == real.namespace_error


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
async def test_a_4_8_refusal_looks_the_same_on_the_wire(case, tokens, node_app, servers,
                                                       refusals):
    python = await servers.app(MIDDLEWARE)
    real = await attempt(node_app("4.8").url, case, tokens, refusals)
    ours = await attempt(python, case, tokens, refusals)
    assert ours.connect_error == real.connect_error
