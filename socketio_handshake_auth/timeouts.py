"""``within(awaitable, timeout)``: ``asyncio.timeout``, and a cancellation that the awaited
code raised itself turned into an error, in the one place both engines run app code."""

import asyncio
from collections.abc import Awaitable


class CancelledInside(Exception):
    """The awaited code raised ``CancelledError`` while nobody cancelled the task running it
    (it awaited something that was cancelled). An error of that code like any other: left as
    ``CancelledError``, python-engineio would swallow it in its connect handler and open the
    session."""


async def within(awaitable: Awaitable, timeout: float):
    """``await awaitable``; ``TimeoutError`` once ``timeout`` seconds have passed since the
    call; ``CancelledInside`` for a cancellation that is its own."""
    try:
        async with asyncio.timeout(timeout):
            return await awaitable
    except asyncio.CancelledError as exc:
        task = asyncio.current_task()
        if task is None or task.cancelling():  # this task is being cancelled: let it
            raise
        raise CancelledInside("the awaited code was cancelled before it finished") from exc
