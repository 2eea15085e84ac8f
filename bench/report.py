"""What ``make bench`` measured, as the Performance page shows it: the tables, the targets
checked, and sentences that read the same numbers. ``sections()`` gives each part of the page
its own text (docs/hooks/generated_tables.py writes them from bench/results/latest.json on
every docs build); ``render()`` puts them together for the terminal."""

import statistics

from bench.scenarios import ACCEPTS, APPS, LIBRARY, NODE

NAMES = {"bare": "bare", "native": "native pattern", **LIBRARY, **APPS,
         NODE: "Node.js 4.8 (reference)"}
LIBRARY_OF = dict(zip(APPS, LIBRARY, strict=True))  # each demo app: the library row it is built on
REFUSING_APP = "legacy-app"  # the refusal target's: 0.9 refuses before any socket exists
FLOOR_SCENARIO = "polling"  # bare's accepted handshake that a 0.9 refusal is set against
WORTH_A_WORD = 0.05  # a library call above this share of a handshake: the page says so


# ---- the numbers -------------------------------------------------------------------------
def round_ratios(report: dict, mine: tuple[str, str], over: tuple[str, str]) -> list[float]:
    """Per round, the CPU per handshake of ``mine`` over ``over``: (server, scenario) pairs
    measured in the same round, so that a slow moment of the machine hits both."""
    top, bottom = (report["measures"][kind][scenario] for kind, scenario in (mine, over))
    return [m["cpu_ms"] / o["cpu_ms"] for m, o in zip(top, bottom, strict=True)]


def ratio(report: dict, kind: str, over: str, scenario: str,
          over_scenario: str | None = None) -> float:
    """The median of the rounds' ratios."""
    return statistics.median(round_ratios(report, (kind, scenario),
                                          (over, over_scenario or scenario)))


def median_of(report: dict, kind: str, scenario: str, key: str = "cpu_ms") -> float:
    return statistics.median(m[key] for m in report["measures"][kind][scenario])


def refusal_ratio(report: dict, kind: str) -> float:
    """A refusal's CPU over bare's accepted polling handshake, in the same round."""
    return ratio(report, kind, "bare", "refusal", FLOOR_SCENARIO)


def socket_bytes(report: dict, kind: str) -> float:
    return next(iter(report["memory"][kind]["per_open_socket"].values()))


def socket_ratio(report: dict, kind: str) -> float:
    return socket_bytes(report, kind) / socket_bytes(report, "bare")


def growth(report: dict, kind: str, key: str = "rss") -> float:
    """What the batches after the first added, in all: resident bytes, or Python objects."""
    after = report["memory"][kind]["after_batch"]
    return after[-1][key] - after[0][key]


def growth_over_bare(report: dict, kind: str) -> float:
    """Resident bytes the further batches added beyond what bare's did (if bare's shrank,
    beyond nothing)."""
    return growth(report, kind) - max(growth(report, "bare"), 0)


def microseconds(report: dict, kind: str, share: float) -> float:
    """A share of the profiled samples, in µs of the server's CPU per handshake."""
    return share * median_of(report, kind, report["profiled"]) * 1000


def lag(report: dict, kind: str) -> float:
    return statistics.median(report["login_lag_ms"][kind])


# ---- the targets -------------------------------------------------------------------------
def checks(report: dict) -> list[tuple[str, str, str, str, bool]]:
    """Every target: (server, what, wanted, measured, met). The CPU target is the library's,
    measured where it does what the native pattern does and nothing more; the refusal,
    memory and lag targets are the demo apps', whose extra defences they include."""
    targets, rows = report["targets"], []
    kib = 1024
    for kind, name in LIBRARY.items():
        for scenario in ACCEPTS:
            measured = ratio(report, kind, "native", scenario)
            rows.append((name, f"CPU per accepted handshake over the native pattern's, "
                               f"{scenario}", f"≤ {targets['native_cpu_ratio_max']:.2f}x",
                         f"{measured:.2f}x", measured <= targets["native_cpu_ratio_max"]))
    measured = refusal_ratio(report, REFUSING_APP)
    rows.append((APPS[REFUSING_APP], f"CPU per refusal over bare's accepted {FLOOR_SCENARIO} "
                                     "handshake", f"≤ {targets['refusal_to_bare_accept_max']:.2f}x",
                 f"{measured:.2f}x", measured <= targets["refusal_to_bare_accept_max"]))
    for kind, name in APPS.items():
        measured = socket_ratio(report, kind)
        rows.append((name, "memory per open socket over bare's",
                     f"≤ {targets['socket_memory_ratio_max']:.2f}x", f"{measured:.2f}x",
                     measured <= targets["socket_memory_ratio_max"]))
        measured = growth_over_bare(report, kind)
        rows.append((name, "resident memory the batches after the first add, beyond bare's",
                     f"≤ {targets['settled_growth_max_bytes'] / kib:.0f} KiB",
                     f"{measured / kib:.0f} KiB", measured <= targets["settled_growth_max_bytes"]))
        measured = lag(report, kind)
        rows.append((name, "event-loop lag, 50 concurrent password logins",
                     f"< {targets['login_lag_max_ms']:g} ms", f"{measured:.1f} ms",
                     measured < targets["login_lag_max_ms"]))
    return rows


def all_met(report: dict) -> bool:
    return all(met for *_, met in checks(report))


# ---- the tables --------------------------------------------------------------------------
def table(header: list[str], rows: list[list[str]], text_columns: int = 1) -> str:
    """Markdown: the first ``text_columns`` left-aligned, the numbers right-aligned."""
    return "\n".join(["| " + " | ".join(header) + " |",
                      "|" + "---|" * text_columns + "---:|" * (len(header) - text_columns),
                      *("| " + " | ".join(row) + " |" for row in rows)])


def header(report: dict) -> str:
    return (f"Measured {report['date']} on {report['machine']}"
            f"{' (quick run)' if report.get('quick') else ''}: {report['rounds']} interleaved "
            f"rounds of {report['handshakes_per_measure']} handshakes per scenario and server, "
            f"{report['concurrency']} clients at a time; "
            + ("the servers on one core, the client on the other." if report.get("pinned", True)
               else "one core only: client and servers shared it."))


def native_table(report: dict) -> str:
    """The library's and the demo apps' CPU per handshake over the native pattern's,
    refusals included."""
    kinds = [*LIBRARY, *APPS]
    rows = [[scenario, f"{median_of(report, 'native', scenario):.3f} ms",
             *(f"{ratio(report, kind, 'native', scenario):.2f}x" for kind in kinds)]
            for scenario in [*ACCEPTS, "refusal"]]
    return table(["scenario", "native pattern: CPU per handshake",
                  *(NAMES[kind] for kind in kinds)], rows)


def bare_table(report: dict) -> str:
    """Every server's CPU per handshake over bare's; a refusal, over bare's accepted
    handshake (bare accepts everything)."""
    kinds = [kind for kind in report["measures"] if kind != "bare"]
    rows = [[scenario, f"{median_of(report, 'bare', scenario):.3f} ms",
             *(f"{ratio(report, kind, 'bare', scenario):.2f}x" for kind in kinds)]
            for scenario in ACCEPTS]
    rows.append([f"refusal, over bare's accepted {FLOOR_SCENARIO} handshake",
                 "(accepts everything)",
                 *(f"{refusal_ratio(report, kind):.2f}x" for kind in kinds)])
    return table(["scenario", "bare: CPU per handshake", *(NAMES[kind] for kind in kinds)],
                 rows)


def targets_table(report: dict) -> str:
    return table(["server", "target", "wanted", "measured", ""],
                 [[server, what, wanted, measured, "met" if met else "**not met**"]
                  for server, what, wanted, measured, met in checks(report)], text_columns=2)


def profile_table(report: dict) -> str:
    """Microseconds of server CPU per handshake in each part of the code: the part's share
    of the samples times the profiled scenario's median CPU per handshake."""
    profile = report["profile"]
    kinds = list(profile)
    names = list(dict.fromkeys(name for kind in kinds for name in profile[kind]["parts"]))
    rows = [[name, *(f"{microseconds(report, kind, profile[kind]['parts'].get(name, 0)):.0f} µs"
                     for kind in kinds)] for name in names]
    rows.append(["**all**", *(f"**{microseconds(report, kind, 1):.0f} µs**" for kind in kinds)])
    rows.append(["samples", *(f"{profile[kind]['samples']}" for kind in kinds)])
    return table(["part of the code", *(NAMES[kind] for kind in kinds)], rows)


ENGINE_ROWS = 12  # the library's functions the table names; the rest share a row


def engines_table(report: dict) -> str:
    """The library's own code, by function: µs per handshake, on the library's servers."""
    profile = report["profile"]
    worst = {}
    for kind in LIBRARY:
        for name, share in profile[kind]["functions"].items():
            worst[name] = max(worst.get(name, 0.0), microseconds(report, kind, share))
    named = sorted(worst, key=lambda name: -worst[name])[:ENGINE_ROWS]

    def row(label: str, shares: dict[str, float]) -> list[str]:
        return [label, *(f"{microseconds(report, kind, shares[kind]):.0f} µs"
                         for kind in LIBRARY)]

    functions = {kind: profile[kind]["functions"] for kind in LIBRARY}
    rows = [row(f"`{name}`", {kind: functions[kind].get(name, 0.0) for kind in LIBRARY})
            for name in named]
    rows.append(row("every other function", {
        kind: sum(share for name, share in functions[kind].items() if name not in named)
        for kind in LIBRARY}))
    rows.append(row("**all of the library's own code**",
                    {kind: sum(functions[kind].values()) for kind in LIBRARY}))
    return table(["function (file in socketio_handshake_auth/)",
                  *(NAMES[kind] for kind in LIBRARY)], rows)


def calls_table(report: dict) -> str:
    """What each well-kept library call costs a handshake, all it calls included."""
    kinds = [kind for kind in report["profile"] if kind != "bare"]
    calls = list(report["profile"][kinds[0]]["calls"])
    rows = [[call, *(f"{microseconds(report, kind, share):.0f} µs ({share:.1%})"
                     for kind in kinds
                     for share in (report["profile"][kind]["calls"][call],))]
            for call in calls]
    return table(["library call", *(NAMES[kind] for kind in kinds)], rows)


def memory_table(report: dict) -> str:
    batch = report["memory_batch"]
    rows = []
    for kind, memory in report["memory"].items():
        after = memory["after_batch"]
        key = next(iter(memory["per_open_socket"]))
        rows.append([NAMES[kind] + (" (V8 heap)" if key == "heap" else ""),
                     f"{socket_bytes(report, kind) / 1024:.1f} KiB",
                     " → ".join(f"{state['rss'] / 2**20:.1f}" for state in after) + " MiB",
                     f"{growth(report, kind) / 1024:+.0f} KiB",
                     f"{growth(report, kind, 'objects') / (batch * (len(after) - 1)):+.3f}"
                     if "objects" in after[0] else "—"])
    return table(["server", f"per open socket ({report['sockets_kept']} kept open)",
                  f"resident memory after each batch of {batch}",
                  "added after the first batch", "Python objects added per handshake, after "
                  "the first batch"], rows)


def rate_table(report: dict) -> str:
    kinds = list(report["measures"])
    rows = [[scenario, *(f"{median_of(report, kind, scenario, 'per_second'):.0f}/s, "
                         f"{median_of(report, kind, scenario, 'p50_ms'):.1f} ms"
                         if report["measures"][kind][scenario] else "—" for kind in kinds)]
            for scenario in [*ACCEPTS, "refusal"]]
    return table(["scenario", *(NAMES[kind] for kind in kinds)], rows)


# ---- the sentences that read them ----------------------------------------------------------
def cpu_difference(report: dict, kind: str, over: str, scenario: str) -> float:
    """µs of CPU per handshake ``kind`` spends beyond ``over``: the median of the rounds'."""
    top, bottom = (report["measures"][name][scenario] for name in (kind, over))
    return statistics.median(1000 * (m["cpu_ms"] - o["cpu_ms"])
                             for m, o in zip(top, bottom, strict=True))


def native_reading(report: dict) -> str:
    cap, lines = report["targets"]["native_cpu_ratio_max"], []
    for kind, name in LIBRARY.items():
        ratios = {scenario: ratio(report, kind, "native", scenario) for scenario in ACCEPTS}
        worst = max(ratios, key=ratios.get)
        spread = round_ratios(report, (kind, worst), ("native", worst))
        missed = [scenario for scenario, value in ratios.items() if value > cap]
        lines.append(
            f"- **{name} costs "
            + " and ".join(f"{value:.2f}x ({scenario})" for scenario, value in ratios.items())
            + f" the native pattern's CPU per accepted handshake**, against a target of "
            f"{cap:.2f}x: " + (f"not met for {' and '.join(missed)}" if missed else "met")
            + f"; that is {cpu_difference(report, kind, 'native', worst):+.0f} µs ({worst}). "
            f"Single rounds range from {min(spread):.2f}x to {max(spread):.2f}x: only the "
            "median means something.")
    for app, name in APPS.items():
        base = LIBRARY_OF[app]
        lines.append(
            f"- **The {name}'s extra defences cost "
            + " and ".join(f"{ratio(report, app, base, scenario):.2f}x ({scenario})"
                           for scenario in ACCEPTS)
            + f" {NAMES[base]}'s CPU**, that is "
            + " and ".join(f"{cpu_difference(report, app, base, scenario):+.0f} µs"
                           for scenario in ACCEPTS)
            + ": reported, not targeted.")
    legacy, middleware = (ratio(report, kind, "native", "refusal") for kind in LIBRARY)
    lines.append(
        f"- **Refusals**: a LegacyServer refusal costs {legacy:.2f}x the native pattern's, "
        "which refuses in the CONNECT, after the session opened; a MiddlewareServer refusal, "
        f"which does the same, {middleware:.2f}x.")
    return "\n".join(lines) + "\n"


def bare_reading(report: dict) -> str:
    lines = []
    for scenario in ACCEPTS:
        lines.append(
            f"- **{scenario.capitalize()}**: bare python-socketio spends "
            f"{median_of(report, 'bare', scenario):.3f} ms of CPU per accepted handshake; "
            "with the same policy, "
            + ", ".join(f"{NAMES[kind]} {ratio(report, kind, 'bare', scenario):.2f}x"
                        for kind in ("native", *LIBRARY, *APPS)) + " that.")
    request = {kind: statistics.median(values)
               for kind, values in report.get("request_cpu_ms", {}).items()}
    if request:
        accept = median_of(report, "bare", FLOOR_SCENARIO)
        refusal = median_of(report, REFUSING_APP, "refusal")
        lines.append(
            f"- **A refusal of the {APPS[REFUSING_APP]} costs "
            f"{refusal_ratio(report, REFUSING_APP):.2f}x a bare accepted handshake** (target: "
            f"at most {report['targets']['refusal_to_bare_accept_max']:.2f}x; LegacyServer's "
            f"alone, {refusal_ratio(report, 'legacy'):.2f}x): one `403` to the first HTTP "
            "request, no socket, no packet. A request that no route answers (a `404`, logged "
            "like every request) costs "
            + ", ".join(f"{NAMES[kind]} {ms:.3f} ms" for kind, ms in request.items())
            + f": a bare accepted handshake is {accept / request['bare']:.1f} such requests, "
            f"a refusal of the {APPS[REFUSING_APP]} {refusal / request[REFUSING_APP]:.1f}.")
    return "\n".join(lines) + "\n"


def extra_parts(report: dict, kind: str, over: str, top: int = 3) -> str:
    """The parts of the code where ``kind`` spends the most beyond ``over``, in µs."""
    profile = report["profile"]
    extra = {name: microseconds(report, kind, profile[kind]["parts"].get(name, 0))
             - microseconds(report, over, profile[over]["parts"].get(name, 0))
             for name in set(profile[kind]["parts"]) | set(profile[over]["parts"])}
    ranked = sorted(((name, value) for name, value in extra.items() if value > 0),
                    key=lambda item: -item[1])[:top]
    return "; ".join(f"{name} {value:+.0f} µs" for name, value in ranked)


def profile_reading(report: dict) -> str:
    lines = [f"- **Where {name} spends more than the native pattern** ({report['profiled']}): "
             f"{extra_parts(report, kind, 'native')}." for kind, name in LIBRARY.items()]
    lines += [f"- **Where the {name} spends more than {NAMES[LIBRARY_OF[app]]}**: "
              f"{extra_parts(report, app, LIBRARY_OF[app])}." for app, name in APPS.items()]
    return "\n".join(lines) + "\n"


def engines_reading(report: dict) -> str:
    profile, scenario, lines = report["profile"], report["profiled"], []
    for kind, name in LIBRARY.items():
        own = microseconds(report, kind, sum(profile[kind]["functions"].values()))
        top = list(profile[kind]["functions"].items())[:3]
        lines.append(
            f"- **{name}'s own code takes {own:.0f} µs of a handshake** ({scenario}); in all, "
            f"{name} costs {cpu_difference(report, kind, 'native', scenario):+.0f} µs beyond "
            "the native pattern. Its busiest functions: "
            + "; ".join(f"`{function}` {microseconds(report, kind, share):.0f} µs"
                        for function, share in top) + ".")
    return "\n".join(lines) + "\n"


def calls_reading(report: dict) -> str:
    profile = report["profile"]
    kinds = [kind for kind in profile if kind != "bare"]
    worst = {call: max((profile[kind]["calls"][call], kind) for kind in kinds)
             for call in profile[kinds[0]]["calls"]}
    over = {call: (share, kind) for call, (share, kind) in worst.items()
            if share > WORTH_A_WORD}
    if not over:
        return (f"- **No library call takes more than {WORTH_A_WORD:.0%} of a handshake** on "
                "any server: "
                + "; ".join(f"{call} at most {share:.1%}" for call, (share, _) in worst.items())
                + ". A hand-written replacement saves at most what the call costs, so none "
                f"would save {WORTH_A_WORD:.0%}.\n")
    return "".join(
        f"- **{call} takes more than {WORTH_A_WORD:.0%} of a handshake**: {share:.1%} of "
        f"{NAMES[kind]}'s ({microseconds(report, kind, share):.0f} µs). A hand-written "
        "replacement would save part of that, never all of it; none is made, because the code "
        "is what a reader copies.\n" for call, (share, kind) in over.items())


def memory_reading(report: dict) -> str:
    batch, lines = report["memory_batch"], []
    lines.append(
        "- **Memory per open socket**: "
        + ", ".join(f"{NAMES[kind]} {socket_ratio(report, kind):.2f}x"
                    for kind in ("native", *LIBRARY, *APPS)) + " bare's.")
    batches = len(report["memory"]["bare"]["after_batch"])
    settled = all(growth_over_bare(report, kind) <= report["targets"]["settled_growth_max_bytes"]
                  for kind in APPS)
    lines.append(
        (f"- **Resident memory settles**: after the first batch of {batch} handshakes, "
         if settled else f"- **Resident memory keeps growing**: after the first batch of "
                         f"{batch} handshakes, ")
        + f"the {batches - 1} further batches added "
        + ", ".join(f"{NAMES[kind]} {growth(report, kind) / 1024:+.0f} KiB"
                    for kind in report["memory"]) + ".")
    return "\n".join(lines) + "\n"


def targets_reading(report: dict) -> str:
    rows = checks(report)
    met = sum(met for *_, met in rows)
    return (f"**{met} of {len(rows)} targets are met in this run**"
            + (": all of them.\n" if met == len(rows) else
               "; for the others, the table says by how much.\n"))


# ---- the page ------------------------------------------------------------------------------
def sections(report: dict) -> dict[str, str]:
    """Each part of the Performance page, by name: a table, then what it says."""
    return {
        "run": header(report) + "\n",
        "native": f"{native_table(report)}\n\n{native_reading(report)}",
        "bare": f"{bare_table(report)}\n\n{bare_reading(report)}",
        "profile": f"{profile_table(report)}\n\n{profile_reading(report)}",
        "engines": f"{engines_table(report)}\n\n{engines_reading(report)}",
        "calls": f"{calls_table(report)}\n\n{calls_reading(report)}",
        "targets": f"{targets_table(report)}\n\n{targets_reading(report)}",
        "memory": f"{memory_table(report)}\n\n{memory_reading(report)}",
        "rates": rate_table(report) + "\n",
    }


def render(report: dict) -> str:
    return "\n".join(f"## {name}\n\n{text}" for name, text in sections(report).items())


def chart(report: dict, path) -> None:
    """The profile as stacked bars: one per server, one colour per part of the code."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    profile = report["profile"]
    kinds = list(profile)
    names = list(dict.fromkeys(name for kind in kinds for name in profile[kind]["parts"]))
    figure, axes = pyplot.subplots(figsize=(11, 3.8), dpi=100)
    left = [0.0] * len(kinds)
    colours = pyplot.get_cmap("tab20")
    for index, name in enumerate(names):
        widths = [microseconds(report, kind, profile[kind]["parts"].get(name, 0))
                  for kind in kinds]
        axes.barh([NAMES[kind] for kind in kinds], widths, left=left, label=name,
                  color=colours(index % 20))
        left = [a + b for a, b in zip(left, widths, strict=True)]
    axes.invert_yaxis()
    axes.set_xlabel(f"server CPU per handshake, µs ({report['profiled']})")
    axes.set_title("Where a handshake's server CPU goes")
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    pyplot.close(figure)
