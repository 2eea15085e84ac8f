"""The migration guide's steps: each one is a working app that passes the whole case table."""

import pytest

from middleware_auth.app import create_app
from migration_kit import steps
from migration_kit.adapter import as_middleware
from socketio_handshake_auth import MiddlewareServer
from tests.cases import CASES
from tests.client import Verdict, attempt, connect, python_client, until

# Step 1 runs the 0.9 functions unchanged: they never read the auth payload, so the step
# decides like the legacy server. From step 2 on, a native middleware reads it.
DECIDES_LIKE = {"step1": "legacy", "step2": "middleware"}


@pytest.fixture(params=list(steps.STEPS))
def step(request) -> str:
    return request.param


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
async def test_each_step_passes_the_case_table(servers, step, case, tokens, refusals):
    url = await servers.create(steps.create_app, step)
    result = await attempt(url, case, tokens, refusals)
    assert result.verdict == Verdict.expected(case.expected(DECIDES_LIKE[step])), result.seen


async def test_the_adapter_feeds_a_0_9_shaped_handshake_data_not_the_raw_request(
    servers, policy
):
    seen = []

    def authorization(handshake_data, callback):
        seen.append(dict(handshake_data))
        handshake_data["user"], handshake_data["role"] = "alice", "user"
        callback(None, True)

    def wiring(io, policy):
        io.use(as_middleware(authorization))

    url = await servers.create(create_app, wiring=wiring)
    async with python_client() as client:
        await client.connect(url + "?foo=bar", wait_timeout=3)
    (handshake_data,) = seen
    assert list(handshake_data) == ["headers", "address", "time", "query", "url", "xdomain",
                                    "secure", "issued"]
    assert handshake_data["query"]["foo"] == "bar"  # 1.x's shim gave undefined here
    assert set(handshake_data["address"]) == {"address", "port"}


@pytest.mark.parametrize(
    ("answer", "message"),
    [((None, False), "Not authorized"), (("db down",), "Authorization failed")],
)
async def test_the_adapter_maps_callback_outcomes_to_connect_error(servers, answer, message,
                                                                  refusals):
    def wiring(io, policy):
        io.use(as_middleware(lambda handshake_data, callback: callback(*answer)))

    url = await servers.create(create_app, wiring=wiring)
    result = await connect(url, refusals)
    assert result.connect_error == {"message": message}


async def test_the_adapter_keeps_what_the_function_added_where_0_9_handlers_read_it(servers):
    """Step 1 leaves a real 0.9 app working: its handlers read ``socket.handshake.user`` and
    ``.session``; 1.0+ code reads ``socket.data``. Both hold what the function added."""
    def authorization(handshake_data, callback):
        handshake_data["user"], handshake_data["session"] = "alice", {"cart": 3}
        callback(None, True)

    io = MiddlewareServer()
    io.use(as_middleware(authorization))
    seen = []

    async def handler_written_for_0_9(socket):
        seen.append((socket.handshake["user"], socket.handshake["session"], socket.data))

    io.on("connection", handler_written_for_0_9)
    url = await servers.engine(io)
    async with python_client() as client:
        await client.connect(url, wait_timeout=3)
        await until(lambda: seen)
    assert seen == [("alice", {"cart": 3}, {"user": "alice", "session": {"cart": 3}})]
