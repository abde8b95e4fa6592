"""Fault tests 4 and 5 of the event pipeline (docs/events.md), with real worker processes
(`python -m ops.cli worker scoring`): a worker killed with SIGKILL mid-batch, and a Redis
that goes away for 20 s while producers keep writing. Each counts the committed
``project.created`` events against scoring's recorded facts: 0 lost, 0 duplicated.

Test 5 uses a private redis-server on a free loopback port, never the shared one.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from contextlib import asynccontextmanager, suppress

from redis.asyncio import Redis
from sqlalchemy import text

from services.registry.models import pipeline as registry_pipeline
from services.scoring.models import ProjectFact
from shared.db import get_engine, job_session
from shared.queue import EVENT_TIMEOUT_S, create_queue_pool
from tests.conftest import REDIS_URL
from tests.events.helpers import create_projects, facts_for, inbox_rows_for
from tests.servers import free_port


@asynccontextmanager
async def scoring_worker(redis_url: str):
    """A real scoring worker process; killed at the end whatever happened."""
    env = {**os.environ, "KPP_REDIS_URL": redis_url, "KPP_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([sys.executable, "-m", "ops.cli", "worker", "scoring"], env=env)  # noqa: ASYNC220
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def wait_for(predicate, within: float, step: float = 0.2) -> float:
    """Seconds until ``predicate()`` holds; fails after ``within`` seconds."""
    started = time.monotonic()
    while not await predicate():
        assert time.monotonic() - started < within, f"not within {within} s"
        await asyncio.sleep(step)
    return time.monotonic() - started


async def relay_registry(queue) -> int:
    async with job_session() as session:
        return await registry_pipeline.relay(session, queue)


async def test_worker_killed_mid_batch_redelivers_within_a_minute(platform, uniq):
    # issue 11 fault test 4: SIGKILL while handlers are in flight → the rest consumed and
    # the in-flight ones redelivered within 60 s (in-progress lock: EVENT_TIMEOUT_S + 10 s)
    ids = await create_projects(platform, uniq, 12)
    redis = Redis.from_url(REDIS_URL)
    facts = ProjectFact.__table__.fullname
    async with get_engine().connect() as blocker:
        # scoring cannot write its facts while this transaction holds the table
        await blocker.execute(text(f"LOCK TABLE {facts} IN EXCLUSIVE MODE"))
        assert await relay_registry(platform.queue) >= 12
        async with scoring_worker(REDIS_URL) as worker:

            async def in_flight() -> bool:
                # the batch job (evts:…) of the relay pass, or a single event job (evt:…)
                return bool(await redis.keys("arq:in-progress:evt*:scoring:*"))

            await wait_for(in_flight, 30)
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
        await blocker.rollback()
    assert await facts_for(ids) == 0
    async with scoring_worker(REDIS_URL) as worker:

        async def all_applied() -> bool:
            return await facts_for(ids) == 12

        took = await wait_for(all_applied, 60)
        assert worker.poll() is None
    assert took < 60 and EVENT_TIMEOUT_S + 10 <= 60
    assert await inbox_rows_for(ids) == 12
    await redis.aclose()


async def test_workers_ride_out_redis_outage_and_consume_everything(platform, uniq, tmp_path):
    # issue 11 fault test 5: Redis away for 20 s while projects are created → the worker
    # survives and every event is consumed once Redis is back (with none of its old data)
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    args = [
        "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(tmp_path),
    ]
    server = subprocess.Popen(args, stdout=subprocess.DEVNULL)  # noqa: ASYNC220
    queue = None
    try:
        probe = Redis.from_url(url)
        await wait_for(lambda: _answers(probe), 10)
        queue = await create_queue_pool(url)
        async with scoring_worker(url) as worker:
            before = await create_projects(platform, uniq, 3)
            await relay_registry(queue)
            await wait_for(lambda: _count_is(before, 3), 30)
            server.send_signal(signal.SIGKILL)
            server.wait(5)
            during = await create_projects(platform, f"{int(uniq, 16) + 50:08x}", 4)
            for _ in range(20):  # 20 s without Redis; the relay keeps failing meanwhile
                with suppress(Exception):
                    await relay_registry(queue)
                await asyncio.sleep(1)
                assert worker.poll() is None, "the worker exited during the outage"
            server = subprocess.Popen(args, stdout=subprocess.DEVNULL)  # noqa: ASYNC220
            await wait_for(lambda: _answers(probe), 10)
            after = await create_projects(platform, f"{int(uniq, 16) + 90:08x}", 2)
            everything = before + during + after

            async def relayed_and_applied() -> bool:
                with suppress(Exception):
                    await relay_registry(queue)
                return await facts_for(everything) == 9

            await wait_for(relayed_and_applied, 60, step=0.5)
            assert worker.poll() is None
        assert await inbox_rows_for(everything) == 9
        await probe.aclose()
    finally:
        if queue is not None:
            with suppress(Exception):
                await queue.aclose()
        server.kill()
        server.wait()


async def _answers(client: Redis) -> bool:
    try:
        return bool(await client.ping())
    except Exception:
        return False


async def _count_is(ids, expected: int) -> bool:
    return await facts_for(ids) == expected
