"""mkdocs hook: the tables and numbers the pages include, written before the build, so that
``mkdocs build`` and ``mkdocs serve`` work on a fresh checkout without ``make docs``.

- ``docs/generated/parity-table.md``, ``handshake-*.md``: every case of ``tests/cases.py`` on
  both servers, and what each era's server sees of one connection. ``tests/report.py`` starts
  the real servers on loopback ports and connects the real python-socketio client (about a
  second). A failure fails the build: these tables say they come from real connections, so
  there is no stale copy to fall back to. Written once per mkdocs process: ``mkdocs serve``
  does not rerun them on every reload (their examples carry ports and clocks).
- ``docs/generated/performance.md``: the last ``make bench`` run (``bench/results/latest.json``,
  committed): its table, and the sentences that read it, from the same numbers.
- ``docs/javascripts/mermaid.min.js``: copied from ``node_modules`` when npm installed it
  (``make docs`` does); without it the diagrams show as text, and the build still passes.
"""

import asyncio
import json
import logging
import shutil
import statistics
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
    write(GENERATED / "performance.md", performance(report))
    source, target = (ROOT / path for path in MERMAID)
    if not source.is_file():
        if not target.is_file():
            log.info("no %s: run `npm ci` (make docs) for the diagrams", MERMAID[0])
        return
    if not target.is_file() or target.stat().st_size != source.stat().st_size:
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(source, target)


# ---- the Performance page: the run's table, and sentences from the same numbers ----------------
def performance(report: dict) -> str:
    from bench.run import markdown, ratios

    report.setdefault("checks", ratios(report))
    return f"{markdown(report)}\n## What this run says\n\n{reading(report)}"


def times(value: float) -> str:
    return f"{value:.1f}x"


def percent(value: float) -> str:
    return f"{value * 100:.0f} %"


def reading(report: dict) -> str:
    """Every number in these sentences is read from ``report``: they cannot disagree with the
    table above, whatever the next run measures."""
    checks, targets, scenarios = report["checks"], report["targets"], report["scenarios"]
    cpu = {name: result["server_cpu_ms_per_handshake"] for name, result in scenarios.items()}
    memory = report["memory_kib_per_socket"]
    accept_min, cheaper_min = targets["accept_ratio_min"], targets["refusal_cheaper_min"]
    lag_max = targets["login_lag_max_ms"]
    legacy, middleware = checks["legacy"], checks["middleware"]
    lines = []

    cheaper = legacy["refusal_cheaper"]
    lines.append(
        f"- **A 0.9 refusal costs the server {times(cheaper)} less CPU than an accepted "
        f"handshake** ({cpu['legacy refuse']:.2f} against {cpu['legacy accept']:.2f} ms): it "
        "happens on the first HTTP request, one `403`, with no Engine.IO session and no "
        f"Socket.IO packet. The target, at least {cheaper_min:g}x, is "
        f"{'met' if cheaper >= cheaper_min else '**missed**'}. A 1.0+ refusal needs the "
        "Engine.IO session and a CONNECT round trip first: it costs "
        f"{cpu['middleware refuse']:.2f} ms against {cpu['middleware accept']:.2f} ms for an "
        f"accepted one ({times(middleware['refusal_cheaper'])} less). That is the price of a "
        "refusal the client can read, so it has no target.")

    def accept_sentence(name: str, check: dict) -> str:
        ratio = check["accept_ratio"]
        if ratio >= accept_min:
            return f"the {name} server reaches {percent(ratio)} of the bare server's rate (met)"
        return (f"the {name} server reaches {percent(ratio)} of the bare server's rate, "
                f"{(accept_min - ratio) * 100:.0f} points short of the target")

    met = [check["accept_ratio"] >= accept_min for check in (legacy, middleware)]
    verdict = ("Both accept paths meet" if all(met) else "Neither accept path meets"
               if not any(met) else "One accept path meets")
    cost = ("Where a server falls short, this is what it does and the floor does not: "
            if not all(met) else "Both do what the floor does not: ")
    lines.append(
        f"- **{verdict} the {percent(accept_min)} target** (the median over the concurrency "
        f"levels): {accept_sentence('0.9-style', legacy)}; "
        f"{accept_sentence('1.0+', middleware)}. {cost}an HS256 signature check with PyJWT, "
        "the policy's carrier parsing, a session record and expiry tracking; the middleware "
        "server also builds a `socket.handshake` and runs a middleware chain per namespace "
        "CONNECT. A verified-token cache would hide the JWT cost here (the benchmark reuses "
        "one token), so there is none: the numbers are what a first connection costs.")

    lags = report.get("login_lag_runs_ms", {})
    lag_text = "; ".join(
        f"{kind} {checks[kind]['login_lag_ms']:.1f} ms"
        + (f" (runs: {', '.join(f'{run:.1f}' for run in lags[kind])})" if kind in lags else "")
        for kind in ("legacy", "middleware"))
    worst = max(checks[kind]["login_lag_ms"] for kind in ("legacy", "middleware"))
    lines.append(
        f"- **50 concurrent password logins {'do not stall' if worst < lag_max else 'stall'} "
        f"the event loop**: the median worst lag of a 5 ms ticker was {lag_text}, against a "
        f"target under {lag_max:g} ms. argon2 runs in a pool of `cores - 1` threads, leaving "
        "a core to the event loop.")

    if {"bare", "legacy", "middleware"} <= memory.keys():
        extra = {kind: memory[kind] - memory["bare"] for kind in ("legacy", "middleware")}
        listed = ", ".join(f"{kind} {memory[kind]:.1f} KiB ({extra[kind]:+.1f})"
                           for kind in extra)
        why = ("the handshake object and the session record each connection keeps"
               if all(value > 0 for value in extra.values()) else
               "RSS grows by pages and allocator arenas, so a difference this small from the "
               "floor, either way, is below what RSS can show")
        node = (f" Node.js kept {memory['node']:.1f} KiB of V8 heap per socket, measured after a "
                "full garbage collection: its RSS does not move while the heap V8 reserved at "
                "start has room, so it is not comparable with the RSS figures."
                if "node" in memory else "")
        lines.append(f"- **Memory per connected socket**: bare {memory['bare']:.1f} KiB, "
                     f"{listed}: {why}.{node}")

    node_accept = scenarios.get("node (reference) accept")
    if node_accept:
        bare = scenarios["bare"]["levels"]
        node_ratio = statistics.median(
            level["per_second"] / bare[key]["per_second"]
            for key, level in node_accept["levels"].items())
        lines.append(
            f"- **The Node.js reference** (real Socket.IO 4.8, one `io.use` middleware, the "
            f"same HS256 check) reaches {percent(node_ratio)} of the bare Python server's rate "
            f"(median over levels), at {cpu['node (reference) accept']:.2f} ms of CPU per "
            "accepted handshake. It is another runtime, there to calibrate, not to compete.")

    lines.append(
        f"- **One run, on {report['machine']}**: client and server share these cores, and "
        "a second run gives other numbers. Read the medians, not a single concurrency level, "
        "and run `make bench` on your own machine.")
    return "\n".join(lines) + "\n"
