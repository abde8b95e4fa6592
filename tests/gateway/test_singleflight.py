"""Concurrent requests that find a cached account or app key expired share one database
read (singleflight.py, issue 15), and a change made meanwhile is never hidden by it."""

from __future__ import annotations

import asyncio

import pytest

from services.gateway.singleflight import SingleFlight


async def test_concurrent_callers_share_one_load():
    # issue 15: 32 requests at the expiry moment → one query, not 32
    flight, loads = SingleFlight(), []

    async def load():
        loads.append(1)
        await asyncio.sleep(0.05)
        return "account v3"

    results = await asyncio.gather(*(flight.run("zdb", load) for _ in range(32)))
    assert results == ["account v3"] * 32 and len(loads) == 1
    assert await flight.run("zdb", load) == "account v3" and len(loads) == 2  # later: loads again


async def test_a_failed_load_reaches_every_caller_and_the_next_call_tries_again():
    # issue 15: a database error still answers every waiting request (→ 503), none hangs
    flight, loads = SingleFlight(), []

    async def failing():
        loads.append(1)
        await asyncio.sleep(0.01)
        raise OSError("database away")

    results = await asyncio.gather(*(flight.run("k", failing) for _ in range(5)), return_exceptions=True)
    assert all(isinstance(r, OSError) for r in results) and len(loads) == 1
    with pytest.raises(OSError):
        await flight.run("k", failing)
    assert len(loads) == 2


async def test_one_caller_giving_up_does_not_cancel_the_others():
    # issue 15: a client that disconnects does not fail the requests sharing its load
    flight = SingleFlight()

    async def load():
        await asyncio.sleep(0.05)
        return 7

    first = asyncio.ensure_future(flight.run("k", load))
    second = asyncio.ensure_future(flight.run("k", load))
    await asyncio.sleep(0.01)
    first.cancel()
    assert await second == 7


async def test_after_forget_the_next_caller_does_not_join_the_older_load():
    # issue 14 kept: a disabled account or revoked key is read afresh at once, not taken
    # from a read that started before the change
    flight, started = SingleFlight(), []

    async def load(value):
        started.append(value)
        await asyncio.sleep(0.05)
        return value

    older = asyncio.ensure_future(flight.run("k", lambda: load("before")))
    await asyncio.sleep(0.01)
    flight.forget("k")
    assert await flight.run("k", lambda: load("after")) == "after"
    assert await older == "before" and started == ["before", "after"]
