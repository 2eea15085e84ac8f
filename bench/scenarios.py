"""What the bench measures: its servers, its scenarios and its targets (``bench.run`` measures
them; ``bench.report`` checks and renders them)."""

# bench/serve.py: bare python-socketio (no decision); python-socketio's own pattern with the
# policy (examples/native); the library doing what that pattern does and nothing more
# (bench/library.py); the two demo apps, with their web app's extra defences
LIBRARY = {"legacy": "LegacyServer", "middleware": "MiddlewareServer"}
APPS = {"legacy-app": "0.9 demo app", "middleware-app": "1.0+ demo app"}
SERVERS = ("bare", "native", *LIBRARY, *APPS)
# Real Socket.IO 4.8 on Node.js with an io.use() doing the same HS256 check (bench/node,
# which bench/run.py installs from npm when Node.js is there): a reference, another runtime.
NODE = "node (reference)"

# --8<-- [start:scenarios]
SCENARIOS = {  # name: (transport, what each client presents)
    "polling": ("polling", "own token"),  # a fresh token per client: no cache could help
    "websocket": ("websocket", "own token"),  # opens over polling, upgrades, then CONNECTs
    "refusal": ("polling", "bad token"),  # signed with another key; bare accepts it: not run
}
# --8<-- [end:scenarios]
ACCEPTS = [name for name, (_, presents) in SCENARIOS.items() if presents != "bad token"]
PROFILED = "polling"  # the scenario bench.profile samples

# --8<-- [start:targets]
TARGETS = {
    # LegacyServer's and MiddlewareServer's CPU per accepted handshake over the native
    # pattern's, same round and scenario
    "native_cpu_ratio_max": 1.10,
    # the 0.9 demo app's refusal: its CPU over bare's accepted polling handshake, same round
    "refusal_to_bare_accept_max": 0.5,
    # each demo app's bytes per open socket over bare's
    "socket_memory_ratio_max": 1.25,
    # each demo app's resident memory after the first batch of handshakes: what the further
    # batches add, beyond what bare's add; Python's allocator takes memory in 1 MiB arenas
    "settled_growth_max_bytes": 1024 * 1024,
    # each demo app's worst event-loop lag while 50 password logins hash at once
    "login_lag_max_ms": 20.0,
}
# --8<-- [end:targets]
