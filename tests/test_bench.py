"""The benchmark's machinery works (no timing is asserted here: targets live in `make bench`)."""

import json
import os
import secrets

from bench.run import ROOT, Server, load, markdown
from shared.policy.tokens import TokenIssuer


async def test_the_load_driver_gets_every_verdict_right_against_a_real_server_process():
    secret = secrets.token_hex(32)
    server = Server("legacy", {**os.environ, "TOKEN_SECRET": secret})
    try:
        await server.ready()
        token = TokenIssuer(secret.encode()).issue("alice", "user")
        accepted = await load(server.url, f"token={token}", concurrency=3, seconds=0.3,
                              expect=True)
        refused = await load(server.url, "token=wrong", concurrency=3, seconds=0.3,
                             expect=False)
    finally:
        server.stop()
    assert accepted and refused  # load() raises if any handshake got the wrong verdict
    assert server.process.returncode is not None


def test_the_committed_results_render_as_the_docs_page_shows_them():
    report = json.loads((ROOT / "bench" / "results" / "latest.json").read_text())
    assert markdown(report) == (ROOT / "bench" / "results" / "performance.md").read_text()
    assert (ROOT / "docs" / "assets" / "performance.png").stat().st_size > 10_000
