"""The benchmark's machinery works (no timing is asserted here: targets live in `make bench`)."""

import json
import os
import secrets

import pytest

from bench.profile import LOGGING, LOOP, category, shares
from bench.report import checks, render
from bench.run import ROOT, Clients, Server, combined, handshakes, requests


class RecordingServer(Server):
    """Notes which stats calls asked for a garbage collection."""

    collections: list[bool]

    async def stats(self, collect: bool = False, trace: bool = False) -> dict:
        self.collections.append(collect)
        return await super().stats(collect, trace)


@pytest.mark.parametrize("transport", ["polling", "websocket"])
async def test_the_load_driver_gets_every_verdict_right_against_a_real_server_process(
        transport, tmp_path):
    secret = secrets.token_hex(32)
    server = RecordingServer("middleware", {**os.environ, "TOKEN_SECRET": secret},
                             tmp_path / "log")
    server.collections = []
    try:
        await server.ready()
        clients = Clients(secret)
        accepted = await handshakes(server, transport, "own token", clients, 20)
        # a full collection first, then the CPU readings around the load: none inside
        assert server.collections == [True, False, False]
        refused = await handshakes(server, transport, "bad token", clients, 5)
        nothing = await requests(server, 10)
        with pytest.raises(AssertionError, match="wrong verdict"):  # it can tell them apart
            await handshakes(server, transport, "one token", Clients(secrets.token_hex(32)), 1)
    finally:
        server.stop()
    assert accepted["cpu_ms"] > 0 and refused["cpu_ms"] > 0 and nothing > 0
    assert server.process.returncode is not None
    assert b"token=[redacted]" in (tmp_path / "log").read_bytes()  # it logged, as in production


def test_a_measure_in_parts_is_the_same_as_one_measure():
    """Equal parts: the CPU per handshake averages, the rate is the harmonic mean (the time of
    each part adds up), the latency the median of the parts'."""
    parts = [{"cpu_ms": 1.0, "per_second": 100.0, "p50_ms": 5.0},
             {"cpu_ms": 3.0, "per_second": 300.0, "p50_ms": 7.0}]
    assert combined(parts) == {"cpu_ms": 2.0, "per_second": 150.0, "p50_ms": 6.0}


def test_a_sample_is_charged_to_the_code_that_asked_for_the_work():
    hmac_in_policy = ["run (aiohttp/web.py:1)", "verify (/w/shared/policy/tokens.py:70)",
                      "digest (/usr/lib/python3.11/hmac.py:9)"]
    assert category(hmac_in_policy) == "the policy: token check, carriers"
    assert category(["log (/w/shared/webapp/access_log.py:3)",
                     "info (/usr/lib/python3.11/logging/__init__.py:1)"]) == LOGGING
    assert category(["_run_once (/usr/lib/python3.11/asyncio/base_events.py:1)"]) == LOOP


def test_idle_samples_are_left_out_of_the_shares(tmp_path):
    raw = tmp_path / "raw.txt"
    raw.write_text("a (/w/shared/policy/tokens.py:1) 3\n"
                   "b (/x/site-packages/aiohttp/web.py:1) 1\n"
                   "_run_once (asyncio/base_events.py:1);select (selectors.py:468) 50\n")
    assert shares(raw) == {"the policy: token check, carriers": 0.75,
                           "aiohttp: HTTP and websocket": 0.25}


def test_the_committed_run_renders_and_is_checked_against_every_target():
    report = json.loads((ROOT / "bench" / "results" / "latest.json").read_text())
    text = render(report)
    rows = checks(report)
    assert {style for style, *_ in rows} == {"0.9 style", "1.0+ style"}
    assert all(f"| {what} | {wanted} | {measured} |" in text
               for _, what, wanted, measured, _ in rows)
    assert (ROOT / "docs" / "assets" / "performance.png").stat().st_size > 10_000
