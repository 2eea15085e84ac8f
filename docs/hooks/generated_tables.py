"""mkdocs hook: the tables and numbers the pages include, written before the build, so that
``mkdocs build`` and ``mkdocs serve`` work on a fresh checkout without ``make docs``.

- ``docs/generated/parity-table.md``, ``handshake-*.md``: every case of ``tests/cases.py`` on
  both servers, and what each era's server sees of one connection. ``tests/report.py`` starts
  the real servers on loopback ports and connects the real python-socketio client (about a
  second). A failure fails the build: these tables say they come from real connections, so
  there is no stale copy to fall back to. Written once per mkdocs process: ``mkdocs serve``
  does not rerun them on every reload (their examples carry ports and clocks).
- ``docs/generated/performance-*.md``: the last ``make bench`` run (``bench/results/latest.json``,
  committed), one file per part of the Performance page (``bench.report.sections``): its
  tables, and the sentences that read them, from the same numbers.
- ``docs/javascripts/mermaid.min.js``: copied from ``node_modules`` when npm installed it
  (``make docs`` does); without it the diagrams show as text, and the build still passes.
"""

import asyncio
import json
import logging
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "docs" / "generated"
MERMAID = ("node_modules/mermaid/dist/mermaid.min.js", "docs/javascripts/mermaid.min.js")
log = logging.getLogger("mkdocs.hooks.generated_tables")
_written_this_process = False


def write(path: Path, text: str) -> None:
    """Only when it changed: ``mkdocs serve`` would otherwise see a change and rebuild."""
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)


def on_pre_build(config, **kwargs) -> None:
    global _written_this_process
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    GENERATED.mkdir(exist_ok=True)
    if not _written_this_process:
        from tests.report import write_tables

        asyncio.run(write_tables(GENERATED))
        _written_this_process = True
    report = json.loads((ROOT / "bench" / "results" / "latest.json").read_text())
    for name, text in performance(report).items():
        write(GENERATED / f"performance-{name}.md", text)
    source, target = (ROOT / path for path in MERMAID)
    if not source.is_file():
        if not target.is_file():
            log.info("no %s: run `npm ci` (make docs) for the diagrams", MERMAID[0])
        return
    if not target.is_file() or target.stat().st_size != source.stat().st_size:
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(source, target)


# ---- the Performance page: the run's tables, and the sentences that read them ------------------
def performance(report: dict) -> dict[str, str]:
    from bench.report import sections

    return sections(report)
