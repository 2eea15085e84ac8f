"""``within(awaitable, timeout)``: ``asyncio.timeout``, with no timer for code that never waits.

Authorization code usually finishes without waiting for anything (a token check and a user
lookup in memory), yet ``asyncio.timeout`` schedules and cancels a timer on every call.
``within`` runs the awaitable up to its first wait, and starts the timer only if there is one.
"""

import asyncio
from collections.abc import Awaitable, Generator
from typing import Any


class CancelledInside(Exception):
    """The awaited code raised ``CancelledError`` while nobody cancelled the task running it
    (it awaited something that was cancelled). An error of that code like any other: left as
    ``CancelledError``, python-engineio would swallow it in its connect handler and open the
    session."""


async def within(awaitable: Awaitable, timeout: float):
    """``await awaitable``; ``TimeoutError`` once ``timeout`` seconds have passed since it
    started, counting the time it ran before its first wait (a slow synchronous step does not
    earn it a fresh timeout); ``CancelledInside`` for a cancellation that is its own."""
    deadline = asyncio.get_running_loop().time() + timeout
    steps = awaitable.__await__()
    try:
        try:
            waiting_for = steps.send(None)
        except StopIteration as done:
            return done.value
        async with asyncio.timeout_at(deadline):
            return await _Rest(steps, waiting_for)
    except asyncio.CancelledError as exc:
        task = asyncio.current_task()
        if task is None or task.cancelling():  # this task is being cancelled: let it
            raise
        raise CancelledInside("the awaited code was cancelled before it finished") from exc


class _Rest:
    """The rest of a started awaitable, driven as ``await`` drives it: what it waits for goes
    to the task, and what the task sends or throws (the timeout's cancellation) goes back."""

    def __init__(self, steps: Generator, waiting_for: Any):
        self.steps = steps
        self.waiting_for = waiting_for

    def __await__(self):
        waiting_for = self.waiting_for
        while True:
            try:
                sent = yield waiting_for
            except BaseException as exc:  # handed on, as ``await`` would
                resume = self.steps.throw
                argument: Any = exc
            else:
                resume, argument = self.steps.send, sent
            try:
                waiting_for = resume(argument)
            except StopIteration as done:
                return done.value

