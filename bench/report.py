"""What ``make bench`` measured, as the Performance page shows it: the tables, the targets
checked, and sentences that read the same numbers (docs/hooks/generated_tables.py renders
this from bench/results/latest.json on every docs build)."""

import statistics

from bench.scenarios import ACCEPTS, NODE, SCENARIOS, TARGETS

STYLES = {"legacy": "0.9 style", "middleware": "1.0+ style"}


def cpu_ratio(report: dict, kind: str, scenario: str) -> float:
    """The median, over the rounds, of this server's CPU per handshake divided by the bare
    floor's in the same round and scenario."""
    mine, floor = report["measures"][kind][scenario], report["measures"]["bare"][scenario]
    return statistics.median(m["cpu_ms"] / f["cpu_ms"] for m, f in zip(mine, floor, strict=True))


def median_of(report: dict, kind: str, scenario: str, key: str) -> float:
    return statistics.median(m[key] for m in report["measures"][kind][scenario])


def refusal_cheaper(report: dict, kind: str) -> float:
    """How many times more server CPU an accepted handshake (polling, a token per client)
    costs than a refused one, the median over rounds."""
    accept = report["measures"][kind]["polling, a token per client"]
    refuse = report["measures"][kind]["refusal"]
    return statistics.median(a["cpu_ms"] / r["cpu_ms"] for a, r in zip(accept, refuse, strict=True))


def memory_ratio(report: dict, kind: str, measure: str) -> float:
    return (report["memory"][kind][measure]["traced"]
            / report["memory"]["bare"][measure]["traced"])


def checks(report: dict) -> list[tuple[str, str, str, str, bool]]:
    """Every target, for each style: (style, what, wanted, measured, met)."""
    targets = report["targets"]
    rows = []
    for kind, style in STYLES.items():
        for scenario in ACCEPTS:
            ratio = cpu_ratio(report, kind, scenario)
            rows.append((style, f"CPU per accepted handshake, {scenario}",
                         f"≤ {targets['cpu_ratio_max']:.2f}x", f"{ratio:.2f}x",
                         ratio <= targets["cpu_ratio_max"]))
        memory = report["memory"]
        ratio = memory_ratio(report, kind, "per_open_socket")
        rows.append((style, "memory per open socket", f"≤ {targets['socket_memory_ratio_max']}x",
                     f"{ratio:.2f}x", ratio <= targets["socket_memory_ratio_max"]))
        retained = memory[kind]["retained_per_closed_connection"]["traced"]
        floor = memory["bare"]["retained_per_closed_connection"]["traced"]
        rows.append((style, "memory retained per closed connection",
                     f"≤ bare ({floor:.0f} B) + {RETAINED_NOISE_BYTES} B", f"{retained:.0f} B",
                     retains_like_the_floor(report, kind)))
        if kind == "legacy":  # 1.0+ refuses in a CONNECT, after the session opened: no target
            cheaper = refusal_cheaper(report, kind)
            rows.append((style, "a refusal is cheaper than an accept",
                         f"≥ {targets['refusal_cheaper_min']:g}x", f"{cheaper:.1f}x",
                         cheaper >= targets["refusal_cheaper_min"]))
        lag = statistics.median(report["login_lag_ms"][kind])
        rows.append((style, "event-loop lag, 50 concurrent logins",
                     f"< {targets['login_lag_max_ms']:g} ms", f"{lag:.1f} ms",
                     lag < targets["login_lag_max_ms"]))
    return rows


# what tracemalloc can find allocated per closed connection when nothing is kept: a bounded
# cache still filling up, or one table that grew, spread over the batch
RETAINED_NOISE_BYTES = 64


def retains_like_the_floor(report: dict, kind: str) -> bool:
    """No more bytes than the floor (give or take the noise above), and no more objects."""
    mine = report["memory"][kind]["retained_per_closed_connection"]
    floor = report["memory"]["bare"]["retained_per_closed_connection"]
    return (mine["traced"] <= max(floor["traced"], 0) + RETAINED_NOISE_BYTES
            and mine["objects"] <= max(floor["objects"], 0) + 0.05)  # fewer is fine


def header(report: dict) -> str:
    return (f"Measured {report['date']} on {report['machine']}"
            f"{' (quick run)' if report.get('quick') else ''}: {report['rounds']} interleaved "
            f"rounds of {report['handshakes_per_measure']} handshakes per scenario and server, "
            f"{report['concurrency']} clients at a time; "
            + ("the servers on one core, the client on the other." if report.get("pinned", True)
               else "one core only: client and servers shared it."))


def cpu_table(report: dict) -> str:
    kinds = [kind for kind in report["measures"] if kind != "bare"]
    names = {**STYLES, NODE: "Node.js 4.8 (reference)"}
    lines = ["| scenario | bare: CPU per handshake | "
             + " | ".join(names[kind] for kind in kinds) + " |",
             "|---|---:|" + "---:|" * len(kinds)]
    for scenario in SCENARIOS:
        if scenario in ACCEPTS:
            floor = f"{median_of(report, 'bare', scenario, 'cpu_ms'):.3f} ms"
            cells = [f"{cpu_ratio(report, kind, scenario):.2f}x" for kind in kinds]
        else:
            floor = "(accepts everything)"
            cells = [f"{median_of(report, kind, scenario, 'cpu_ms'):.3f} ms" for kind in kinds]
        lines.append(f"| {scenario} | {floor} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def memory_table(report: dict) -> str:
    lines = ["| server | per open socket | retained per closed connection | "
             "objects retained per closed connection | resident memory growth per closed "
             "connection |", "|---|---:|---:|---:|---:|"]
    for kind, memory in report["memory"].items():
        key = "heap" if kind == NODE else "traced"
        socket = memory["per_open_socket"][key] / 1024
        retained = memory["retained_per_closed_connection"]
        objects = f"{round(retained['objects'], 2) + 0.0:.2f}" if "objects" in retained else "—"
        note = " (V8 heap)" if kind == NODE else ""
        lines.append(f"| {kind}{note} | {socket:.1f} KiB | {retained[key]:.0f} B | {objects} | "
                     f"{retained['rss'] / 1024:.1f} KiB |")
    return "\n".join(lines)


def rate_table(report: dict) -> str:
    kinds = list(report["measures"])
    lines = ["| scenario | " + " | ".join(kinds) + " |", "|---|" + "---:|" * len(kinds)]
    for scenario in SCENARIOS:
        cells = [f"{median_of(report, kind, scenario, 'per_second'):.0f}/s, "
                 f"{median_of(report, kind, scenario, 'p50_ms'):.1f} ms"
                 if report["measures"][kind][scenario] else "—" for kind in kinds]
        lines.append(f"| {scenario} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets_table(report: dict) -> str:
    lines = ["| style | target | wanted | measured | |", "|---|---|---|---|---|"]
    for style, what, wanted, measured, met in checks(report):
        lines.append(f"| {style} | {what} | {wanted} | {measured} | "
                     f"{'met' if met else '**missed**'} |")
    return "\n".join(lines)


def render(report: dict) -> str:
    return (f"{header(report)}\n\n"
            "**Server CPU per handshake**: the bare floor's, and each server's as a ratio "
            "to it (the median of the rounds' ratios); for refusals, the CPU itself.\n\n"
            f"{cpu_table(report)}\n\n**Targets**\n\n{targets_table(report)}\n\n"
            "**Memory**: bytes Python allocated and still holds (tracemalloc), after a full "
            "garbage collection; for Node.js, V8's heap.\n\n"
            f"{memory_table(report)}\n\n"
            "**Handshakes per second and median latency**, as the client saw them (its "
            "own speed included: for reading, not for targets)\n\n"
            f"{rate_table(report)}\n\n"
            f"**Where the CPU goes** ({report['profiled']}; py-spy samples, charged to the "
            "code that asked for the work; see the chart below)\n\n"
            f"{profile_table(report)}\n")


def all_met(report: dict) -> bool:
    return all(met for *_, met in checks(report))


assert set(TARGETS) == {"cpu_ratio_max", "socket_memory_ratio_max", "refusal_cheaper_min",
                        "login_lag_max_ms"}


def profile_table(report: dict) -> str:
    """Microseconds of server CPU per handshake in each part of the code, from the profile's
    shares and the measured CPU per handshake of the profiled scenario."""
    scenario = report["profiled"]
    kinds = list(report["profile"])
    per_kind = {kind: median_of(report, kind, scenario, "cpu_ms") * 1000 for kind in kinds}
    names = list(dict.fromkeys(name for kind in kinds for name in report["profile"][kind]))
    lines = ["| part of the code | " + " | ".join(kinds) + " |", "|---|" + "---:|" * len(kinds)]
    for name in names:
        cells = [f"{report['profile'][kind].get(name, 0) * per_kind[kind]:.0f} µs"
                 for kind in kinds]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("| **all** | " + " | ".join(f"**{per_kind[k]:.0f} µs**" for k in kinds) + " |")
    return "\n".join(lines)


def chart(report: dict, path) -> None:
    """The profile as stacked bars: one per server, one colour per part of the code."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    scenario = report["profiled"]
    kinds = list(report["profile"])
    names = list(dict.fromkeys(name for kind in kinds for name in report["profile"][kind]))
    figure, axes = pyplot.subplots(figsize=(11, 3.6), dpi=100)
    left = [0.0] * len(kinds)
    colours = pyplot.get_cmap("tab10")
    for index, name in enumerate(names):
        widths = [report["profile"][kind].get(name, 0)
                  * median_of(report, kind, scenario, "cpu_ms") * 1000 for kind in kinds]
        axes.barh(kinds, widths, left=left, label=name, color=colours(index % 10))
        left = [a + b for a, b in zip(left, widths, strict=True)]
    axes.invert_yaxis()
    axes.set_xlabel(f"server CPU per handshake, µs ({scenario})")
    axes.set_title("Where a handshake's server CPU goes")
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    pyplot.close(figure)


def round_ratios(report: dict, kind: str, scenario: str) -> list[float]:
    mine, floor = report["measures"][kind][scenario], report["measures"]["bare"][scenario]
    return [m["cpu_ms"] / f["cpu_ms"] for m, f in zip(mine, floor, strict=True)]


def reading(report: dict) -> str:
    """Sentences that read this run's numbers: they cannot disagree with the tables."""
    targets, lines = report["targets"], []
    cpu_max = targets["cpu_ratio_max"]
    for kind, style in STYLES.items():
        ratios = {scenario: cpu_ratio(report, kind, scenario) for scenario in ACCEPTS}
        worst = max(ratios, key=ratios.get)
        spread = round_ratios(report, kind, worst)
        missed = sum(ratio > cpu_max for ratio in ratios.values())
        lines.append(
            f"- **The {style} server costs {min(ratios.values()):.2f}x to "
            f"{ratios[worst]:.2f}x the floor's CPU per accepted handshake**, against a target "
            f"of {cpu_max:.2f}x: "
            + (f"missed in {missed} of {len(ratios)} scenarios" if missed else "met in all")
            + f". Its worst is {worst}; single rounds of it range from {min(spread):.2f}x to "
            f"{max(spread):.2f}x, so only the median means something.")
    profile, scenario = report["profile"], report["profiled"]
    extra = {kind: {name: (profile[kind].get(name, 0) * median_of(report, kind, scenario,
                                                                 "cpu_ms")
                           - profile["bare"].get(name, 0) * median_of(report, "bare", scenario,
                                                                      "cpu_ms")) * 1000
                    for name in set(profile[kind]) | set(profile["bare"])}
             for kind in STYLES}
    for kind, style in STYLES.items():
        top = sorted(((name, value) for name, value in extra[kind].items() if value > 0),
                     key=lambda item: -item[1])[:3]
        listed = "; ".join(f"{name} {microseconds:+.0f} µs" for name, microseconds in top)
        lines.append(f"- **Where the {style} server spends more than the floor** "
                     f"({scenario}): {listed}.")
    cheaper = refusal_cheaper(report, "legacy")
    lines.append(
        f"- **An accepted handshake (polling, a token per client) costs {cheaper:.1f}x the CPU "
        f"of a 0.9 refusal** (target: at least {targets['refusal_cheaper_min']:g}x). The "
        "refusal is one `403` to the first HTTP request: no session survives, no packet. A "
        "1.0+ "
        "refusal comes after the session opened and a CONNECT: "
        f"{median_of(report, 'middleware', 'refusal', 'cpu_ms'):.3f} ms, the price of a "
        "refusal the client can read, so it has no target.")
    if report.get("request_cpu_ms"):
        request = {kind: statistics.median(report["request_cpu_ms"][kind])
                   for kind in report["request_cpu_ms"]}
        accept = median_of(report, "legacy", "polling, a token per client", "cpu_ms")
        refusal = median_of(report, "legacy", "refusal", "cpu_ms")
        lines.append(
            "- **What any HTTP request costs, before authorization does anything**: a `GET` "
            "that no route answers (404, logged like every request) costs "
            + ", ".join(f"{kind} {ms:.3f} ms" for kind, ms in request.items())
            + f". For the 0.9 server, an accept costs {accept / request['legacy']:.1f} such "
            f"requests and a refusal {refusal / request['legacy']:.1f}: the refusal adds the "
            "session python-engineio opens before the gate runs, the handshake data, the "
            "signature check and the refusal's log line. "
            f"{targets['refusal_cheaper_min']:g}x would leave it "
            f"{accept / targets['refusal_cheaper_min'] / request['legacy'] - 1:.1f} of a "
            "request's worth of CPU, beyond the request itself, for all of that.")
    socket_ratio = {kind: memory_ratio(report, kind, "per_open_socket") for kind in STYLES}
    lines.append(
        "- **Memory per open socket**: "
        + ", ".join(f"{STYLES[kind]} {ratio:.2f}x" for kind, ratio in socket_ratio.items())
        + " the floor."
        + (" The extra is the era's handshake object (headers, query, address, time), the "
           "socket the app reads, its live-session record and its deadlines."
           if any(ratio > 1 for ratio in socket_ratio.values()) else ""))
    memory = report["memory"]
    kept = {kind: memory[kind]["retained_per_closed_connection"] for kind in ("bare", *STYLES)}
    listed = ", ".join(f"{kind} {kept[kind]['traced']:.0f} B and "
                       f"{round(kept[kind]['objects'], 2) + 0.0:.2f} objects" for kind in kept)
    clean = all(retains_like_the_floor(report, kind) for kind in STYLES)
    lines.append(
        ("- **A closed connection leaves nothing the floor does not**: "
         if clean else "- **Closed connections leave memory behind**: ")
        + f"per closed connection, {listed}. Resident memory grew by "
        + ", ".join(f"{kind} {kept[kind]['rss'] / 1024:.1f} KiB" for kind in kept)
        + " per closed connection.")
    return "\n".join(lines) + "\n"
