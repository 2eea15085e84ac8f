"""Every case of the spec, against both servers: the same handshake, the same decision."""

import pytest

from tests.cases import CASES
from tests.client import attempt
from tests.implementations import IMPLEMENTATIONS


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
async def test_handshake(impl, server, case, tokens, refusals):
    result = await attempt(server, case, tokens, refusals)
    assert result.verdict == impl.expected(case), result.seen


async def test_both_servers_give_the_same_verdict_table(servers, tokens, refusals):
    """The tables differ exactly where a case says 0.9 cannot do it (the ``auth`` payload)."""
    urls = {impl.id: await servers.app(impl) for impl in IMPLEMENTATIONS}
    table = {
        case.id: {name: (await attempt(url, case, tokens, refusals)).verdict
                  for name, url in urls.items()}
        for case in CASES
    }
    differing = {case_id for case_id, row in table.items() if row["legacy"] != row["middleware"]}
    declared = {case.id for case in CASES if case.legacy}
    report = "\n".join(
        f"{case_id:40} {row['legacy']!s:32} {row['middleware']!s}"
        for case_id, row in table.items() if (case_id in differing) != (case_id in declared)
    )
    assert differing == declared, f"undeclared differences (case, legacy, middleware):\n{report}"


def test_the_spec_is_big_enough_and_ids_are_unique():
    ids = [case.id for case in CASES]
    assert len(ids) >= 40
    assert len(set(ids)) == len(ids)
    assert all(case_id == case_id.lower() and " " not in case_id for case_id in ids)
