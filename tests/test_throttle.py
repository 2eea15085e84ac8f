"""Password guessing is throttled, and the throttle cannot be turned against users: only a
wrong password is charged, a throttled attempt costs nobody anything, a good login spends
nothing. What remains is the lock-out an account allowance is for, and tokens and open
sessions work through it. Both servers, through the same fixture."""

import asyncio

import pytest
from limits.aio.storage import RedisStorage
from redis.asyncio import ConnectionPool

from shared.policy.throttle import HashingGate, Throttle
from tests.cases import ALICE, BOB
from tests.client import from_address, make_policy, python_client, try_login
from tests.raw_client import raw_handshake
from tests.test_cluster import RedisServer

ALLOWANCE = 5  # wrong passwords a minute, per address and per account, in these tests


@pytest.fixture
async def throttled_server(impl, servers):
    allowance = f"{ALLOWANCE}/minute"
    servers.policy = make_policy(throttle=Throttle(per_address=allowance, per_account=allowance))
    return await servers.app(impl)


async def test_concurrent_guesses_get_no_more_checks_than_the_allowance_and_the_gate(
        throttled_server, refusals):
    """50 guesses at once: a guess is charged once checked, and the gate lets at most
    ``per_address`` run at a time, so at most ``ALLOWANCE + per_address - 1`` are checked."""
    guesses = [raw_handshake(throttled_server, query=f"username=alice&password=guess{i}")
               for i in range(50)]
    assert not any(answer.connected for answer in await asyncio.gather(*guesses))
    checked = refusals.codes.count("bad_credentials")
    assert 0 < checked <= ALLOWANCE + HashingGate().limit_per_address - 1, refusals.codes
    assert checked + refusals.codes.count("busy") + refusals.codes.count("throttled") == 50


@pytest.mark.timeout(60)
async def test_guesses_from_many_addresses_stay_within_the_bound_with_the_redis_throttle(
        impl, servers, tmp_path, refusals):
    """The finding: with the allowance in Redis, 30 addresses guessing one account got 12
    checks past an allowance of 10: a check gave its place in the gate back before its charge
    had reached Redis, and an attempt that had passed the throttle on the old count took it."""
    redis = RedisServer(tmp_path / "redis")
    await redis.start()
    pool = ConnectionPool.from_url(redis.url)  # the test's own, to close at the end
    try:
        storage = RedisStorage("async+" + redis.url, implementation="redispy",
                               connection_pool=pool)
        servers.policy = make_policy(throttle=Throttle(storage=storage))
        url = await servers.app(impl)

        async def guesses(address: str) -> None:
            for _ in range(10):
                await asyncio.sleep(0.002)  # the attacker's pace
                async with from_address(address) as http:
                    await try_login(url, "alice", "guess", http=http)

        await asyncio.gather(*(guesses(f"127.0.0.{10 + n}") for n in range(30)))
        gate = HashingGate()
        assert refusals.codes.count("bad_credentials") <= 10 + gate.limit_per_account - 1
        assert refusals.codes.count("throttled") > 0  # the allowance was reached
    finally:
        await servers.stop()
        await pool.aclose()
        redis.stop()


async def test_a_valid_token_is_never_refused_because_its_address_is_throttled(
        throttled_server, tokens):
    for i in range(ALLOWANCE + 1):
        await raw_handshake(throttled_server, query=f"username=mallory{i}&password=guess")
    assert (await try_login(throttled_server, "bob", "builder"))[1] == "throttled"
    assert (await raw_handshake(throttled_server, query=f"token={tokens[ALICE]}")).connected


async def test_an_address_over_its_allowance_cannot_lock_an_account_out(throttled_server):
    """The finding: an address that had spent its allowance sent 10 more guesses at bob; all
    were 429, yet each was charged to bob, who then got 429 with the right password."""
    for i in range(ALLOWANCE):
        async with from_address("127.0.0.5") as http:
            assert (await try_login(throttled_server, f"mallory{i}", "guess", http=http))[0] == 401
    for _ in range(2 * ALLOWANCE):
        async with from_address("127.0.0.5") as http:
            assert await try_login(throttled_server, "bob", "guess", http=http) == (
                429, "throttled")
    async with from_address("127.0.0.6") as http:
        assert (await try_login(throttled_server, "bob", "builder", http=http))[0] == 200


async def test_a_good_login_spends_nothing(throttled_server):
    for _ in range(2 * ALLOWANCE + 1):
        assert (await try_login(throttled_server, "bob", "builder"))[0] == 200
    for _ in range(ALLOWANCE):  # the address's whole allowance is still there for mistakes
        assert (await try_login(throttled_server, "bob", "wrong"))[0] == 401


async def test_wrong_guesses_at_an_account_lock_its_password_logins_and_nothing_else(
        throttled_server, tokens):
    """The lock-out that remains, by design: ``per_account`` wrong passwords a minute from any
    addresses make the account's password logins wait out the window. Its tokens still open
    connections and its open sessions stay; another account is not affected."""
    async with python_client() as bob:
        await bob.connect(f"{throttled_server}?token={tokens[BOB]}", wait_timeout=3)
        for i in range(ALLOWANCE):
            async with from_address(f"127.0.0.{10 + i}") as http:
                assert await try_login(throttled_server, "bob", "guess", http=http) == (
                    401, "bad_credentials")
        async with from_address("127.0.0.99") as http:
            assert await try_login(throttled_server, "bob", "builder", http=http) == (
                429, "throttled")
        async with from_address("127.0.0.99") as http:
            assert (await try_login(throttled_server, "alice", "wonderland", http=http))[0] == 200
        assert (await raw_handshake(throttled_server, query=f"token={tokens[BOB]}")).connected
        assert bob.connected


async def test_a_flood_is_refused_at_once_and_a_good_login_elsewhere_is_served(impl, servers):
    servers.policy = make_policy()  # no throttle: only the hashing gate stands
    url = await servers.app(impl)
    flood = [asyncio.ensure_future(try_login(url, "alice", f"guess{i}")) for i in range(200)]
    await asyncio.sleep(0.05)  # the flood is in
    async with from_address("127.0.0.2") as http:
        assert await try_login(url, "bob", "builder", http=http) == (200, None)
    answers = await asyncio.gather(*flood)
    assert {error for _, error in answers} == {"bad_credentials", "busy"}
    assert (429, "busy") in answers, "a full gate answers at once instead of queueing"


@pytest.mark.parametrize(("trusted", "separate"), [(False, False), (True, True)],
                         ids=["untrusted-peer", "trusted-proxy"])
async def test_forwarded_addresses_are_believed_only_from_trusted_proxies(
        impl, servers, trusted, separate):
    servers.policy = make_policy(throttle=Throttle(per_address="2/minute",
                                                   per_account="100/minute"),
                                 trusted_proxies=["127.0.0.1"] if trusted else [])
    url = await servers.app(impl)
    for i in range(3):  # each claims another address
        await try_login(url, f"user{i}", "guess", headers={"X-Forwarded-For": f"203.0.113.{i}"})
    status, _ = await try_login(url, "bob", "builder", headers={"X-Forwarded-For": "203.0.113.9"})
    assert (status == 200) is separate
