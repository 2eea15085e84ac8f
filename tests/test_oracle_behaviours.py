"""The engine behaviours against the oracle: each row of ``tests/oracle/behaviours.py`` runs on
the real server (socket.io 0.9.19 or 4.8 on Node.js) and on our engine, scripted alike.

The real answer must be the one the row records, and ours must equal it or be the row's
declared difference. A real server that crashes on a row is started again for the next one.
"""

import json
import re
from urllib.parse import urlencode

import aiohttp
import pytest
from multidict import CIMultiDict
from yarl import URL

from tests.client09 import connect09
from tests.node import NodeServer
from tests.oracle import engines, observe
from tests.oracle.behaviours import BEHAVIOURS, Behaviour
from tests.oracle.differences import DIFFERENCES, EXITED, NO_ANSWER
from tests.raw_client import raw_handshake

ORACLES = {"0.9": "originals/v0.9/oracle.js", "4.8": "originals/v4/oracle.js"}
MAY_END_THE_PROCESS = {"throws", "rejects", "twice", "error-then-ok"}  # scripts, by name
OUR_ENGINES = {"0.9": engines.legacy_oracle, "4.8": engines.middleware_oracle}


@pytest.fixture(scope="module")
def real_servers():
    """One real server per era, started again whenever a row made it exit."""
    running: dict[str, NodeServer] = {}

    def server(era: str) -> NodeServer:
        if era not in running or running[era].crashed:
            if era in running:
                running[era].stop()
            running[era] = NodeServer(ORACLES[era])
        return running[era]

    yield server
    for node in running.values():
        node.stop()


def query_of(row: Behaviour) -> str:
    raw = row.query.get("raw")
    return raw if raw else urlencode(row.query, doseq=True)


def shown(row: Behaviour, welcome: dict) -> str:
    """The fields ``row.show`` names, from the welcome event's handshake (or data)."""
    handshake = welcome["handshake"]
    data = welcome.get("data") or {}
    values = {"keys": list(handshake), "data.ran": data.get("ran"),
              "data.connected": data.get("connected"),
              "types.address": type_name(handshake.get("address")),
              "types.time": type_name(handshake.get("time")),
              "types.secure": type_name(handshake.get("secure")),
              "types.issued": type_name(handshake.get("issued")),
              "time": re.sub(r"\d", "0", re.sub(r"^\w{3} \w{3}", "Ddd Mmm", handshake["time"])),
              "query": {k: "<ms>" if k == "t" else v for k, v in handshake["query"].items()}}
    parts = []
    for path in row.show:
        if path in values:
            value = values[path]
        else:
            head, _, name = path.partition(".")
            value = handshake[head].get(name) if name else handshake[head]
        parts.append(f"{path} = {json.dumps(value)}")
    return "; ".join(parts)


def type_name(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {type_name(v)}" for k, v in value.items()) + "}"
    return {str: "string", bool: "boolean", int: "number", float: "number"}.get(type(value),
                                                                               "undefined")


async def real_answer(row: Behaviour, node: NodeServer) -> str:
    headers = CIMultiDict(row.headers)
    if row.show and row.era == "0.9":
        answer = await connect09(node.url, query=query_of(row), headers=headers)
        seen = shown(row, answer.welcome) if answer.welcome else f"HTTP {answer.status}"
    elif row.show:
        seen = await fields4(node.url, row, headers)
    elif row.era == "0.9":
        seen = await observe.real09(node.url, row.query, row.namespace, headers)
    else:
        seen = await observe.connect4(node.url, row.query, row.namespace, headers)
        if seen == NO_ANSWER and not node.crashed:
            seen = await http_refusal(node.url, row, headers) or seen
    may_crash = seen == NO_ANSWER or MAY_END_THE_PROCESS & set(map(str, row.query.values()))
    return EXITED if node.crashed or (may_crash and node.exited_within(1.0)) else seen


async def our_answer(row: Behaviour, url: str) -> str:
    headers = CIMultiDict(row.headers)
    if row.show:
        return await fields4(url, row, headers)
    if row.era == "0.9":
        return await observe.ours09(url, row.query, row.namespace, headers)
    seen = await observe.connect4(url, row.query, row.namespace, headers)
    return await http_refusal(url, row, headers) or seen if seen == NO_ANSWER else seen


async def fields4(url: str, row: Behaviour, headers) -> str:
    """The handshake object through a raw Engine.IO 4 client (it can repeat headers)."""
    answer = await raw_handshake(url, query=query_of(row), headers=headers,
                                 namespace=row.namespace)
    if answer.status != 200:
        return f"HTTP {answer.status}"
    return shown(row, answer.welcome) if answer.welcome else f"no welcome: {answer}"


async def http_refusal(url: str, row: Behaviour, headers) -> str | None:
    """A handshake refused at the HTTP level, before any Socket.IO packet: ``HTTP <status>``."""
    query = urlencode({"EIO": "4", "transport": "polling", **row.query}, doseq=True)
    async with aiohttp.ClientSession() as http, http.get(
            URL(f"{url}/socket.io/?{query}", encoded=True), headers=headers) as response:
        return None if response.status == 200 else f"HTTP {response.status}"


@pytest.mark.parametrize("row", BEHAVIOURS, ids=lambda row: row.id)
async def test_the_real_server_and_ours_answer_alike(row, real_servers, servers):
    real = await real_answer(row, real_servers(row.era))
    assert real == row.real, f"real Socket.IO {row.era} no longer answers as recorded"
    ours = await our_answer(row, await servers.engine(OUR_ENGINES[row.era]()))
    assert ours == (row.ours if row.difference else real), DIFFERENCES.get(row.difference)


def test_the_rows_are_unique_and_every_difference_is_shown():
    ids = [row.id for row in BEHAVIOURS]
    assert len(set(ids)) == len(ids), sorted(i for i in ids if ids.count(i) > 1)
    assert all((row.difference is None) == (row.ours is None) for row in BEHAVIOURS)
    used = {row.difference for row in BEHAVIOURS if row.difference}
    assert used <= set(DIFFERENCES)
