"""The docs' runnable examples run, and print what the docs show next to them."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.node import require_node

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ["original_thread.legacy", "original_thread.middleware"]
# The thread's JavaScript, verbatim, on the real servers in originals/ (`make originals`).
JS_EXAMPLES = ["legacy.js", "middleware.js", "auth.js"]


def normalised(output: str) -> str:
    """The client's cache-buster ``t`` changes on every run; everything else must not.

    Python prints it ``'t': '1795643818.97'``, Node.js ``t: '1795751903300'`` (0.9's clock) or
    ``t: 'PA3x9fK'`` (4.x's random string); the JavaScript examples mask it themselves already.
    """
    output = re.sub(r"'t': '[0-9.]+'", "'t': '…'", output)
    return re.sub(r"\bt: '[^']*'", "t: '…'", output)


@pytest.mark.parametrize("example", EXAMPLES)
def test_the_example_prints_what_the_docs_show(example):
    run = subprocess.run([sys.executable, "-m", f"examples.{example}"], cwd=ROOT,
                         capture_output=True, text=True, timeout=20, check=True)
    shown = (ROOT / "examples" / f"{example.replace('.', '/')}.out.txt").read_text()
    assert normalised(run.stdout) == normalised(shown)
    assert run.stderr == ""


@pytest.mark.parametrize("example", JS_EXAMPLES)
def test_the_javascript_example_prints_what_the_docs_show(example):
    script = Path("examples", "original_thread", example)
    run = subprocess.run([require_node(), str(script)], cwd=ROOT, capture_output=True, text=True,
                         timeout=20, check=False)
    assert run.returncode == 0, f"node {script} failed (run `make originals`?):\n{run.stderr}"
    shown = (ROOT / script.with_name(f"{example}.out.txt")).read_text()
    assert normalised(run.stdout) == normalised(shown)
    assert run.stderr == ""


CHECKED_LANGUAGES = {"python", "py", "js", "javascript", "html"}
HISTORICAL = "// Historical Node.js"  # quoted Socket.IO history, labelled, allowed as text


def code_blocks(markdown: str):
    """(language, lines) of every fenced block, fences matched line by line."""
    fence, language, lines = None, None, []
    for line in markdown.splitlines():
        stripped = line.strip()
        if fence is None and stripped.startswith("```"):
            fence, language, lines = line[: line.index("`")] + "```", stripped[3:].split(" ")[0], []
        elif fence is not None and line.rstrip() == fence:
            yield language, [entry.strip() for entry in lines if entry.strip()]
            fence = None
        elif fence is not None:
            lines.append(line)


def test_every_code_block_on_the_site_is_included_from_a_tested_file():
    typed = []
    for page in sorted((ROOT / "docs").rglob("*.md")):
        for language, lines in code_blocks(page.read_text()):
            if language not in CHECKED_LANGUAGES or lines[:1] == [] or lines[0].startswith(
                    HISTORICAL):
                continue
            if not all(line.startswith("--8<--") for line in lines):
                typed.append(f"{page.relative_to(ROOT)}: {lines[0][:60]}")
    assert typed == [], "these blocks are typed, not included with --8<--:\n" + "\n".join(typed)
