"""What the bench measures: its scenarios, its targets, and the name of the Node.js reference
row (``bench.run`` measures them; ``bench.report`` renders them)."""

# Real Socket.IO 4.8 on Node.js with an io.use() doing the same HS256 check (bench/node,
# which bench/run.py installs from npm when Node.js is there): a reference, another runtime.
NODE = "node (reference)"
TARGETS = {"cpu_ratio_max": 1.10, "socket_memory_ratio_max": 1.25,
           "refusal_cheaper_min": 5.0, "login_lag_max_ms": 20.0}

# --8<-- [start:scenarios]
SCENARIOS = {  # name: (transport, what each client presents)
    "polling": ("polling", "one token"),  # every client the same valid token
    "polling, a token per client": ("polling", "own token"),  # no cache could help
    "websocket": ("websocket", "own token"),  # opens over polling, upgrades, then CONNECTs
    "refusal": ("polling", "bad token"),  # signed with another key; bare accepts it: no floor
}
# --8<-- [end:scenarios]
ACCEPTS = [name for name, (_, presents) in SCENARIOS.items() if presents != "bad token"]
