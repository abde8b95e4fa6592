"""What issue 15 took out of every request keeps its guarantees: a pooled connection that
died while idle is replaced before use, a read-only session cannot write, and a cached
identity token still expires."""

from __future__ import annotations

from datetime import date

import asyncpg
import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from services.registry.models import JobRun, Project, pipeline
from shared import clock, db
from shared.errors import Conflict, Unauthorized, install_error_handlers
from shared.identity import Principal, Role, issue_identity_token, verify_identity_token
from shared.settings import get_settings


async def test_connection_killed_while_idle_is_replaced_before_the_request_uses_it(monkeypatch):
    # architecture: a restarted database is survived; the ping now runs only on a connection
    # idle for PING_AFTER_IDLE_S, so an idle connection whose server side is gone (as after a
    # restart) must still be noticed at checkout, not fail the request
    url = get_settings().database_url
    engine = create_async_engine(url, pool_size=1, max_overflow=0)
    db.ping_when_idle(engine)
    try:
        async with engine.connect() as conn:
            first_pid = await conn.scalar(text("SELECT pg_backend_pid()"))
        admin = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", first_pid)
        finally:
            await admin.close()
        monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.0)  # "idle long enough" without a sleep
        async with engine.connect() as conn:
            second_pid = await conn.scalar(text("SELECT pg_backend_pid()"))
        assert second_pid != first_pid
    finally:
        await engine.dispose()


async def test_read_session_refuses_every_kind_of_write():
    # architecture: every state change is audited and committed by the unit of work; a
    # session marked read-only (autocommit, for one-statement reads) must not write at all
    session: AsyncSession = db.sessionmaker()()
    session.info["read_only"] = True
    try:
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        assert (await session.execute(select(Project.id).limit(1))).all() is not None
        with pytest.raises(db.ReadOnlySessionError):
            await session.execute(
                insert(pipeline.tables.audit).values(
                    actor="t", actor_role="admin", entity="project", entity_id="x", action="probe"
                )
            )
        session.add(
            Project(
                project_code="2023-140000-44-01-999999",
                name="不应写入",
                unit_id="town-chengguan",
                category="industrial",
                total_investment=1,
                scale_band="small",
            )
        )
        with pytest.raises(db.ReadOnlySessionError):
            await session.flush()
    finally:
        await session.close()
    async with db.job_session() as check:
        assert (
            await check.scalar(select(Project.id).where(Project.project_code == "2023-140000-44-01-999999"))
            is None
        )


def test_cached_identity_token_still_expires_on_the_wall_clock(monkeypatch):
    # architecture: services accept only a short-lived identity token; verifying a token
    # once and re-using the answer must not outlive the token's own expiry
    principal = Principal(subject="user:zdb", role=Role.key_office, unit_id="office-zdb")
    token = issue_identity_token(principal, ttl_s=60)
    assert verify_identity_token(token) == principal
    assert verify_identity_token(token) == principal  # the cached answer, same principal
    issued = clock.wall_timestamp()
    monkeypatch.setattr(clock, "wall_timestamp", lambda: issued + 61)
    with pytest.raises(Unauthorized) as refused:
        verify_identity_token(token)
    assert refused.value.code == "auth.identity_expired"
    with pytest.raises(Unauthorized):
        verify_identity_token(token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1])


async def test_read_connection_dropped_by_the_server_is_not_handed_to_the_next_request():
    # architecture: a restarted database is survived; a read connection bypasses SQLAlchemy's
    # disconnect handling, so one the server dropped during the read must be discarded when
    # the request releases it (issue 15), not given to the next request with no ping
    url = get_settings().database_url
    engine = create_async_engine(url, pool_size=1, max_overflow=0)
    db.ping_when_idle(engine)
    statement = db.ReadStatement(select(func.pg_backend_pid()))
    try:
        conn = await engine.connect()
        first_pid = await db.ReadConnection(conn).fetchrow(statement)  # back in the pool below
        admin = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", first_pid[0])
        finally:
            await admin.close()
        # which error the driver raises depends on when it notices the drop
        dropped = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError)
        read = db.ReadConnection(conn)
        with pytest.raises(dropped):
            await read.fetchrow(statement)
        await read.release()
        # checked in a moment ago: no idle ping would catch a dead one
        read = db.ReadConnection(await engine.connect())
        try:
            second_pid = await read.fetchrow(statement)
        finally:
            await read.release()
        assert second_pid[0] != first_pid[0]
    finally:
        await engine.dispose()


async def test_write_connection_commits_only_what_the_unit_of_work_accepts(uniq):
    # architecture: one transaction per request, committed by the unit of work after the
    # endpoint succeeded and rolled back on a refusal — also for a write sent straight to the
    # driver on a WriteConnection (issue 15); no connection goes back to the pool mid-transaction
    router = APIRouter(route_class=db.UnitOfWorkRoute)
    mark = db.driver_statement(
        text("INSERT INTO registry.job_runs (job, run_on) VALUES (:job, CAST(:on AS date)) RETURNING job")
    )

    @router.post("/probe/{job}")
    async def probe(job: str, refuse: bool, request: Request):
        conn = await db.get_write_connection(request)
        await conn.fetchval(mark, {"job": job, "on": date(2024, 1, 1)})
        if refuse:
            raise Conflict("拒绝写入", code="probe.refused")
        return {"job": job}

    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)
    kept, refused = f"kept-{uniq}", f"refused-{uniq}"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as c:
        assert (await c.post(f"/probe/{kept}", params={"refuse": False})).status_code == 200
        r = await c.post(f"/probe/{refused}", params={"refuse": True})
        assert r.status_code == 409 and r.json()["code"] == "probe.refused"
    async with db.job_session() as s:
        written = await s.scalars(select(JobRun.job).where(JobRun.job.in_([kept, refused])))
        assert list(written) == [kept]
        left_open = await s.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
            )
        )
    assert left_open == 0
