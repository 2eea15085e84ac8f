"""Deadlines: each key expires once, on time (within a tick), unless it was discarded."""

import asyncio

from socketio_handshake_auth.deadlines import Deadlines


async def test_keys_expire_once_within_a_tick_of_their_delay_and_discarded_ones_never():
    loop = asyncio.get_running_loop()
    started, expired = loop.time(), {}
    deadlines = Deadlines(lambda key: expired.setdefault(key, []).append(loop.time() - started),
                          tick=0.05)
    deadlines.add("soon", 0.1)
    deadlines.add("later", 0.3)
    deadlines.add("moved", 0.1)
    deadlines.add("moved", 0.2)  # a second add replaces the first deadline
    deadlines.add("dropped", 0.1)
    deadlines.discard("dropped")
    deadlines.discard("never added")
    await asyncio.sleep(0.5)
    assert sorted(expired) == ["later", "moved", "soon"]
    for key, delay in (("soon", 0.1), ("moved", 0.2), ("later", 0.3)):
        [when] = expired[key]  # once
        assert delay <= when < delay + 0.05 + 0.03, (key, when)  # a tick late at most
    assert len(deadlines) == 0 and deadlines._timer is None  # no timer left armed


async def test_an_expiry_may_add_a_deadline_again():
    rounds = []
    deadlines = Deadlines(lambda key: rounds.append(key) or (
        len(rounds) < 3 and deadlines.add(key, 0.05)), tick=0.02)
    deadlines.add("again", 0.05)
    await asyncio.sleep(0.4)
    assert rounds == ["again"] * 3 and len(deadlines) == 0


async def test_an_expiry_that_fails_stops_neither_the_others_nor_later_deadlines():
    expired = []

    def expire(key):
        expired.append(key)
        if key == "fails":
            raise RuntimeError("boom")

    deadlines = Deadlines(expire, tick=0.02)
    for key in ("fails", "same tick", "other"):
        deadlines.add(key, 0.02)
    deadlines.add("later", 0.1)
    await asyncio.sleep(0.25)
    assert sorted(expired) == ["fails", "later", "other", "same tick"]


async def test_an_expiry_may_discard_a_key_due_in_the_same_tick():
    expired = []
    deadlines = Deadlines(lambda key: expired.append(key) or deadlines.discard(
        "b" if key == "a" else "a"), tick=0.05)
    deadlines.add("a", 0.01)
    deadlines.add("b", 0.01)
    await asyncio.sleep(0.2)
    assert len(expired) == 1  # whichever came first discarded the other
