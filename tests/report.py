"""Generate the docs' tables from real connections: ``python -m tests.report docs/generated``.

- ``parity-table.md``: every case of tests/cases.py against both servers, as the suite runs it.
- ``handshake-*.md``: what each era's server sees of one real connection, field by field.
Nothing here is kept by hand: the mkdocs hook ``docs/hooks/generated_tables.py`` writes these
files before every build, so ``mkdocs build`` and ``mkdocs serve`` work on a fresh checkout.
"""

import asyncio
import json
import logging
import sys
from pathlib import Path

import socketio

from shared.webapp.redaction import redacted, redacted_url
from socketio_handshake_auth.legacy import LegacyServer
from socketio_handshake_auth.middleware import MiddlewareServer
from tests.cases import ALICE, CASES
from tests.client import RefusalLog, attempt, make_policy, mint_tokens, python_client
from tests.implementations import IMPLEMENTATIONS
from tests.servers import Servers

SERVERS = {impl.id: impl for impl in IMPLEMENTATIONS}


def cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


# The parity table, one table per carrier: six columns of 50 rows do not fit a page.
GROUPS = [  # (heading, does this carrier belong to it?)
    ("Username and password in the query", lambda c: c == "query password"),
    ("Token in the query", lambda c: c == "query token"),
    ("Token cookie", lambda c: c == "cookie"),
    ("`Authorization: Bearer` header", lambda c: c == "authorization header"),
    ("`auth` payload (Socket.IO 3+)", lambda c: c == "auth payload"),
    ("Several carriers at once", lambda c: "+" in c),
    ("No credentials", lambda c: c == "none"),
]


async def parity_table(servers: Servers, tokens: dict[str, str], refusals: RefusalLog) -> str:
    urls = {name: await servers.app(impl) for name, impl in SERVERS.items()}
    groups: dict[str, list[str]] = {heading: [] for heading, _ in GROUPS}
    same_count, reasons = 0, []
    for case in CASES:
        results = {name: await attempt(url, case, tokens, refusals) for name, url in urls.items()}
        legacy, middleware = (results[name] for name in SERVERS)
        same_count += legacy.verdict == middleware.verdict
        same = "yes" if legacy.verdict == middleware.verdict else f"by design: {case.note}"
        if legacy.verdict != middleware.verdict:
            reasons.append(case.note)
        heading = next(heading for heading, belongs in GROUPS if belongs(case.carrier))
        carrier = f"{case.carrier}<br>" if "+" in case.carrier else ""
        groups[heading].append("| " + " | ".join(cell(value) for value in (
            f"{carrier}`{case.id}`", f"`{case.namespace}`",
            f"{legacy.verdict}<br><small>{legacy.seen}</small>",
            f"{middleware.verdict}<br><small>{middleware.seen}</small>", same)) + " |")
    lines = [f"**{len(CASES)} cases**, run on both servers: **{same_count} decided the same**, "
             f"{len(CASES) - same_count} differ by design:", ""]
    for reason in dict.fromkeys(reasons):
        count = reasons.count(reason)
        lines.append(f"- {reason} ({count} case{'' if count == 1 else 's'})")
    lines.append("")
    for heading, rows in groups.items():
        if rows:
            lines += [f"## {heading}", "",
                      "| case | namespace | 0.9: global authorization | 1.0+: middleware | "
                      "same? |", "|---|---|---|---|---|", *rows, ""]
    return "\n".join(lines)


def type_name(value) -> str:
    return {dict: "dict", list: "list", str: "str", int: "int", bool: "bool",
            type(None): "None"}.get(type(value), type(value).__name__)


def field_table(fields: dict) -> str:
    rows = ["| field | Python type | example from a real connection |", "|---|---|---|"]
    for key, value in fields.items():
        example = json.dumps(value, ensure_ascii=False)
        if len(example) > 160:
            example = example[:157] + "…"
        rows.append(f"| `{key}` | `{type_name(value)}` | `{cell(example)}` |")
    return "\n".join(rows) + "\n"


async def handshakes(servers: Servers, token: str) -> dict[str, str]:
    """Connect the same client to a recording server of each kind; tabulate what each saw."""
    seen: dict[str, dict] = {}

    legacy = LegacyServer()
    legacy.set("authorization",
               lambda hd, cb: seen.setdefault("legacy", dict(hd)) and cb(None, True))
    middleware = MiddlewareServer()
    middleware.use(lambda socket, next: seen.setdefault("middleware", dict(socket.handshake))
                   and next())
    plain = socketio.AsyncServer(async_mode="aiohttp")

    async def connect(sid, environ, auth):
        fields = {k: v for k, v in environ.items()
                  if (isinstance(v, str) and not k.startswith("wsgi.")) or k == "wsgi.url_scheme"}
        fields["QUERY_STRING"] = redacted_url("?" + fields["QUERY_STRING"])[1:]
        fields["RAW_URI"] = redacted_url(fields["RAW_URI"])
        seen.setdefault("environ", fields)
        seen.setdefault("auth", {"auth": auth})

    plain.on("connect", connect)
    plain_engine = type("Plain", (), {"sio": plain, "attach": lambda _, app: plain.attach(app)})()
    for io in (legacy, middleware, plain_engine):
        url = await servers.engine(io)
        async with python_client() as client:
            await client.connect(f"{url}?token={token}&foo=bar", auth={"token": token},
                                 headers={"X-Requested-With": "docs"}, wait_timeout=3)
    return {name: field_table(redacted(fields)) for name, fields in seen.items()}


async def write_tables(folder: Path) -> list[Path]:
    """Every table, from real connections to servers on loopback ports; the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    refusals = RefusalLog()
    logger = logging.getLogger("handshake")
    propagate, level = logger.propagate, logger.level
    logger.addHandler(refusals)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # the table is the output, not a log line per refusal
    policy = make_policy()
    tokens = mint_tokens(policy.tokens)
    servers = Servers(policy)
    tables = {}
    try:
        tables["parity-table.md"] = await parity_table(servers, tokens, refusals)
        for name, table in (await handshakes(servers, tokens[ALICE])).items():
            tables[f"handshake-{name}.md"] = table
    finally:
        await servers.stop()
        logger.removeHandler(refusals)
        logger.propagate, logger.level = propagate, level
    written = []
    for name, text in tables.items():
        path = folder / name
        if not path.is_file() or path.read_text() != text:  # unchanged: no rebuild loop
            path.write_text(text)
        written.append(path)
    return written


async def main(folder: Path) -> None:
    written = await write_tables(folder)
    print(f"wrote {len(written)} tables to {folder}")


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/generated")))
