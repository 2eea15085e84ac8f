"""Every case of the spec, against both servers: the same handshake, the same decision."""

import pytest

from tests.cases import CASES
from tests.client import Verdict, attempt


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
async def test_handshake(impl, server, case, tokens, refusals):
    result = await attempt(server, case, tokens, refusals)
    server_name = "legacy" if impl == "legacy_authorization" else "middleware"
    assert result.verdict == Verdict.expected(case.expected(server_name)), result.seen
