"""mkdocs hook: write the oracle's tables from their data before every build, so that
``mkdocs build`` and ``mkdocs serve`` work on a fresh checkout.

- ``docs/generated/fidelity.md``: every declared difference from real Socket.IO, with its
  reason (``tests/oracle/differences.py``, the one list).
- ``docs/generated/oracle-0.9.md`` / ``oracle-4.8.md``: each engine behaviour, what the real
  server answered and the test that ran it, and what ours does (``tests/oracle/behaviours.py``).
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEST = "tests/test_oracle_behaviours.py::test_the_real_server_and_ours_answer_alike"


def cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def fidelity_table(differences) -> str:
    rows = ["| difference | era | real Socket.IO | ours | why |", "|---|---|---|---|---|"]
    for d in differences.values():
        rows.append(f"| <span id=\"{d.id}\"></span>**{d.id}** ({d.kind}) | {d.era} | "
                    f"{cell(d.real)} | {cell(d.ours)} | {cell(d.reason)} |")
    return "\n".join(rows) + "\n"


def behaviour_table(rows, era: str) -> str:
    lines = ["| the function | real socket.io answered | ours |", "|---|---|---|"]
    for row in (row for row in rows if row.era == era):
        where = "" if row.namespace == "/" else f" on `{row.namespace}`"
        ours = ("same" if row.difference is None else
                f"[{row.difference}](fidelity.md#{row.difference}): `{cell(row.ours)}`")
        lines.append(f"| `{cell(row.what)}`{where} | `{cell(row.real)}`<br>"
                     f"<small>`[{row.id}]`</small> | {ours} |")
    return "\n".join(lines) + "\n"


def on_pre_build(config, **kwargs) -> None:
    sys.path.insert(0, str(ROOT))
    from tests.oracle.behaviours import BEHAVIOURS
    from tests.oracle.differences import DIFFERENCES

    out = ROOT / "docs" / "generated"
    out.mkdir(exist_ok=True)
    write(out / "fidelity.md", fidelity_table(DIFFERENCES))
    for era in ("0.9", "4.8"):
        write(out / f"oracle-{era}.md", behaviour_table(BEHAVIOURS, era))


def write(path: Path, text: str) -> None:
    """Only when it changed: ``mkdocs serve`` rebuilds on every write, and would loop."""
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)
