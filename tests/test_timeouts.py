"""``within``: ``asyncio.timeout``, and a cancellation of the awaited code's own made an error."""

import asyncio

import pytest

from socketio_handshake_auth.timeouts import CancelledInside, within


async def returns(value):
    return value


async def waits_then_returns(value, seconds=0.01):
    await asyncio.sleep(seconds)
    await asyncio.sleep(0)  # a bare yield, as asyncio.sleep(0) makes
    return value


async def raises_after_waiting():
    await asyncio.sleep(0.01)
    raise ValueError("from the awaitable")


async def test_what_never_waits_is_answered():
    assert await within(returns(7), timeout=0.1) == 7


async def test_what_waits_is_answered_when_it_finishes_in_time():
    assert await within(waits_then_returns("late"), timeout=1) == "late"


async def test_what_waits_too_long_raises_timeout_error_and_is_stopped():
    stopped = asyncio.Event()

    async def hangs():
        try:
            await asyncio.sleep(30)
        finally:
            stopped.set()

    with pytest.raises(TimeoutError):
        await within(hangs(), timeout=0.05)
    assert stopped.is_set()  # the cancellation reached the code that waited


async def test_errors_come_out_as_they_are_raised():
    with pytest.raises(ValueError, match="from the awaitable"):
        await within(raises_after_waiting(), timeout=1)


async def test_a_cancellation_from_outside_stays_a_cancellation():
    task = asyncio.ensure_future(within(waits_then_returns(1, seconds=30), timeout=10))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_what_the_awaitable_catches_is_its_own_business():
    async def catches_its_own_error():
        try:
            await raises_after_waiting()
        except ValueError:
            return "handled"

    assert await within(catches_its_own_error(), timeout=1) == "handled"


async def test_time_before_the_first_wait_counts():
    async def slow_then_waits():
        import time
        time.sleep(0.15)  # holds the loop longer than the whole timeout
        await asyncio.sleep(0.05)
        return "too late"

    with pytest.raises(TimeoutError):
        await within(slow_then_waits(), timeout=0.1)


async def test_a_cancellation_of_its_own_is_an_error_not_a_cancellation():
    async def awaits_something_cancelled():
        waiting = asyncio.ensure_future(asyncio.sleep(10))
        asyncio.get_running_loop().call_soon(waiting.cancel)
        await waiting

    with pytest.raises(CancelledInside):
        await within(awaits_something_cancelled(), timeout=1)
