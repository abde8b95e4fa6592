"""The test platform: a fresh database per run migrated by the real migrations, real Redis,
every service running on its own uvicorn server, and workers drained on demand.

Tests isolate by owning their data (unique codes, their own units' projects); the
database is dropped at the end of the run.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import uuid

# -- environment first: settings are read once, at first use ---------------------------
from tests.servers import create_database, free_port, server_urls, with_database

ADMIN_URL, REDIS_URL = server_urls(dict(os.environ))
DB_NAME = asyncio.run(create_database(ADMIN_URL))
DATABASE_URL = with_database(ADMIN_URL, DB_NAME).replace("postgresql://", "postgresql+asyncpg://")
PORTS = {name: free_port() for name in ("gateway", "registry", "approvals", "issues", "scoring")}
os.environ.update(
    KPP_ENV="test",
    KPP_DATABASE_URL=DATABASE_URL,
    KPP_REDIS_URL=REDIS_URL,
    KPP_BCRYPT_ROUNDS="4",
    KPP_LOG_JSON="false",
    KPP_LOG_LEVEL="WARNING",
    # retries without waiting, so drain() sees a failing handler's every try at once
    KPP_EVENT_RETRY_DELAYS_S="0,0,0,0",
    **{f"KPP_{name.upper()}_URL": f"http://127.0.0.1:{port}" for name, port in PORTS.items()},
)

import httpx  # noqa: E402
import pytest  # noqa: E402
import uvicorn  # noqa: E402
from redis.asyncio import Redis  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402

from ops import migrate  # noqa: E402
from shared import clock  # noqa: E402
from shared.db import (  # noqa: E402
    dispose_engine,
    get_engine,
    job_session,
)
from shared.http import service_client  # noqa: E402
from shared.queue import create_queue_pool  # noqa: E402
from tests.servers import drop_database  # noqa: E402

WORKER_SERVICES = ("registry", "approvals", "issues", "scoring", "gateway")
CONSUMER_SERVICES = ("issues", "scoring", "gateway")
DEMO_PASSWORD = "Kpp@2026"


def pytest_sessionstart(session: pytest.Session) -> None:
    migrate.upgrade_all(DATABASE_URL)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    asyncio.run(drop_database(ADMIN_URL, DB_NAME))


class Platform:
    """Handles on the running test platform."""

    def __init__(self) -> None:
        self.urls = {name: f"http://127.0.0.1:{port}" for name, port in PORTS.items()}
        self.servers: list[tuple[uvicorn.Server, asyncio.Task]] = []
        self.queue = None
        self._tokens: dict[str, str] = {}

    @staticmethod
    def _serve(name: str) -> tuple[uvicorn.Server, asyncio.Task]:
        app = importlib.import_module(f"services.{name}.app").app
        config = uvicorn.Config(
            app, host="127.0.0.1", port=PORTS[name], log_level="warning", access_log=False, lifespan="on"
        )
        server = uvicorn.Server(config)
        server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        return server, asyncio.create_task(server.serve())

    async def start(self) -> None:
        self.servers = [self._serve(name) for name in PORTS]
        for server, _ in self.servers:
            while not server.started:
                await asyncio.sleep(0.02)
        redis = Redis.from_url(REDIS_URL)
        await redis.flushdb()
        await redis.aclose()
        self.queue = await create_queue_pool(REDIS_URL)
        seed = importlib.import_module("services.gateway.seed")
        async with job_session() as session:
            await seed.seed_demo(session)

    async def stop_service(self, name: str) -> None:
        """Stop one service's server (its port then refuses connections)."""
        i = list(PORTS).index(name)
        server, task = self.servers[i]
        server.should_exit = True
        await task

    async def start_service(self, name: str) -> None:
        """Start a stopped service again on its port."""
        i = list(PORTS).index(name)
        server, task = self.servers[i] = self._serve(name)
        while not server.started:
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        for server, _ in self.servers:
            server.should_exit = True
        await asyncio.gather(*(task for _, task in self.servers))
        if self.queue is not None:
            await self.queue.aclose()
        await service_client.close()
        await dispose_engine()

    def client(self, service: str = "gateway", **kw) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.urls[service], timeout=30, **kw)

    async def token(self, username: str) -> str:
        if username not in self._tokens:
            async with self.client() as c:
                r = await c.post("/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD})
                assert r.status_code == 200, r.text
                self._tokens[username] = r.json()["access_token"]
        return self._tokens[username]

    async def as_user(self, username: str) -> httpx.AsyncClient:
        """A client at the gateway logged in as one of the demo users."""
        token = await self.token(username)
        return self.client(headers={"Authorization": f"Bearer {token}"})

    async def drain(self, rounds: int = 6, *, dead_letters: int = 0) -> None:
        """Relay every outbox and run each worker until no job is left (burst mode).

        Fails on any failed job, and when the run parked other than ``dead_letters`` new
        dead letters: a crashing consumer must not pass unnoticed.
        """
        from arq.worker import create_worker

        parked_before = await self.dead_letter_count()
        failed: list[str] = []
        for _ in range(rounds):
            moved = 0
            for name in WORKER_SERVICES:
                async with job_session() as session:
                    moved += await _relay(name, session, self.queue)
            ran = 0
            for name in WORKER_SERVICES:
                settings = importlib.import_module(f"services.{name}.worker").WorkerSettings
                worker = create_worker(
                    settings,
                    burst=True,
                    redis_pool=await create_queue_pool(REDIS_URL),
                    handle_signals=False,
                    poll_delay=0.01,
                    cron_jobs=[],
                    on_startup=None,
                    on_shutdown=None,
                )
                await worker.main()
                ran += worker.jobs_complete + worker.jobs_failed + worker.jobs_retried
                if worker.jobs_failed:
                    failed.append(f"{name}: {worker.jobs_failed} failed job(s)")
                await worker.close()
            if moved == 0 and ran == 0:
                break
        assert not failed, f"drain: {failed} (see the log above)"
        parked = await self.dead_letter_count() - parked_before
        assert parked == dead_letters, f"drain: {parked} new dead letter(s), {dead_letters} expected"

    async def dead_letter_count(self) -> int:
        total = 0
        async with job_session() as session:
            for name in CONSUMER_SERVICES:
                dead = importlib.import_module(f"services.{name}.models").pipeline.tables.dead_letter
                total += await session.scalar(select(func.count()).select_from(dead))
        return total


async def _relay(service: str, session, queue) -> int:
    models = importlib.import_module(f"services.{service}.models")
    return await models.pipeline.relay(session, queue)


@pytest.fixture(scope="session")
async def platform():
    p = Platform()
    await p.start()
    yield p
    await p.stop()


@pytest.fixture
def uniq() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture
def clock_at():
    """Set the one clock for a test: ``clock_at(moment)`` (an aware datetime, or a date meaning
    09:00 in Shanghai); it keeps ticking from there and returns to the wall clock afterwards."""
    yield clock.set_now
    clock.set_now(None)


@pytest.fixture
async def db_session():
    """A session inside one transaction over the real migrated test database, rolled back
    after the test (issue 16): call service functions directly, with no server and no data
    left behind. The code under test may flush (and ``commit``, which only releases a
    savepoint here); it sees the rows other tests committed, and none of its own outlive it."""
    async with get_engine().connect() as connection:
        transaction = await connection.begin()
        session = AsyncSession(
            bind=connection,
            expire_on_commit=False,
            autoflush=False,
            join_transaction_mode="create_savepoint",
        )
        try:
            yield session
        finally:
            await session.close()
            await transaction.rollback()
