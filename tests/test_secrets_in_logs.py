"""No session id in any log line (the autouse fixture checks every record for secrets)."""

import logging

import aiohttp

from tests.cases import ALICE
from tests.client import python_client, until


async def test_no_session_id_reaches_a_log_line(server, tokens, caplog):
    """A polling session id lets its holder drive that session: logs show only its hash."""
    caplog.set_level(logging.DEBUG)
    async with python_client() as client:
        await client.connect(f"{server}?token={tokens[ALICE]}", wait_timeout=3)
        sid = client.eio.sid
        assert await client.call("handshake", timeout=3)
        await client.disconnect()
    await until(lambda: "sid=#" in caplog.text)  # the upgrade is logged once it has ended
    assert sid not in caplog.text


async def test_an_unknown_sid_is_refused_without_logging_its_value(server, tokens, caplog):
    async with aiohttp.ClientSession() as http:
        url = f"{server}/socket.io/?EIO=4&transport=polling&sid={tokens[ALICE]}"
        async with http.get(url) as response:
            assert response.status == 400
    assert "Invalid session (unknown sid, value not logged)" in caplog.text
