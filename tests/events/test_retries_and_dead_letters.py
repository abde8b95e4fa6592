"""Fault tests 1, 2, 3 and 6 of the event pipeline (docs/events.md): every committed event
is applied once — 0 lost, 0 duplicated — through failing handlers, a Redis that forgets its
jobs, and PostgreSQL connections killed under a consumer.

The events are real: projects created through the gateway commit ``project.created`` in the
registry's outbox; the scoring worker records one ``ProjectFact`` per event. A failing
handler is the real one wrapped so that it raises first (the cause an operator then fixes).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select, text

from services.registry.models import pipeline as registry_pipeline
from services.scoring.consumers import HANDLERS
from services.scoring.models import pipeline as scoring_pipeline
from shared import clock
from shared.db import job_session
from shared.settings import get_settings
from tests.conftest import REDIS_URL
from tests.events.helpers import create_projects, facts_for, inbox_rows_for

REAL = HANDLERS["project.created"]


def failing(times: int | None, calls: list[str], *, kill_connection: bool = False):
    """The real handler, raising on its first ``times`` tries (always when None)."""

    async def handler(session, event):
        calls.append(event["id"])
        if times is None or len(calls) <= times:
            if kill_connection:  # the consumer's own PostgreSQL connection is terminated
                await session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
            raise RuntimeError("评分库暂不可写（演练）")
        await REAL(session, event)

    return handler


async def test_handler_failing_three_times_is_applied_once(platform, uniq, monkeypatch):
    # issue 11 fault test 1: raises on tries 1-3, succeeds on try 4 → applied once
    calls: list[str] = []
    monkeypatch.setitem(HANDLERS, "project.created", failing(3, calls))
    ids = await create_projects(platform, uniq, 1)
    await platform.drain()
    assert len(calls) == 4  # three failures, then the try that applied it
    assert await facts_for(ids) == 1 and await inbox_rows_for(ids) == 1


async def test_handler_always_failing_becomes_dead_letter_and_replays_once(platform, uniq, monkeypatch):
    # issue 11 fault test 2: after 1 + 4 retries (KPP_EVENT_RETRY_DELAYS_S has 4 delays)
    # the event is parked, visible at the gateway; once fixed, a replay applies it once
    calls: list[str] = []
    monkeypatch.setitem(HANDLERS, "project.created", failing(None, calls))
    ids = await create_projects(platform, uniq, 1)
    await platform.drain(dead_letters=1)
    assert len(calls) == 5 and await facts_for(ids) == 0
    event_id = calls[0]
    async with await platform.as_user("admin") as admin:
        r = await admin.get(
            "/api/v1/admin/dead-letters", params={"service": "scoring", "type": "project.created"}
        )
        assert r.status_code == 200, r.text
        mine = [i for i in r.json()["items"] if i["event_id"] == event_id]
        assert len(mine) == 1 and mine[0]["tries"] == 5
        assert "评分库暂不可写" in mine[0]["error"] and mine[0]["source"] == "registry"
        # a key-office user holds no admin:events scope
        async with await platform.as_user("zdb") as zdb:
            r = await zdb.get("/api/v1/admin/dead-letters")
            assert r.status_code == 403
        # still failing: the replay is refused and the letter stays
        r = await admin.post(f"/api/v1/admin/dead-letters/scoring/{event_id}/replay")
        assert r.status_code == 409 and r.json()["code"] == "dead_letter.replay_failed"
        monkeypatch.setitem(HANDLERS, "project.created", REAL)  # the cause is fixed
        r = await admin.post(f"/api/v1/admin/dead-letters/scoring/{event_id}/replay")
        assert r.status_code == 200, r.text
        assert r.json()["replayed"] == [event_id]
        r = await admin.post(f"/api/v1/admin/dead-letters/scoring/{event_id}/replay")
        assert r.status_code == 404 and r.json()["code"] == "dead_letter.not_found"
    assert await facts_for(ids) == 1 and await inbox_rows_for(ids) == 1
    audit = scoring_pipeline.tables.audit
    async with job_session() as session:
        actions = (
            await session.scalars(
                select(audit.c.actor).where(
                    audit.c.entity == "dead_letter", audit.c.entity_id == event_id, audit.c.action == "replay"
                )
            )
        ).all()
    assert actions == ["user:admin"]
    async with platform.client("scoring") as c:
        metrics = (await c.get("/metrics")).text
    assert 'kpp_event_dead_letters_total{service="scoring"}' in metrics
    await platform.drain()  # the replay changed nothing that is still pending


async def test_discarding_a_dead_letter_needs_a_reason_and_is_audited(platform, uniq, monkeypatch):
    calls: list[str] = []
    monkeypatch.setitem(HANDLERS, "project.created", failing(None, calls))
    ids = await create_projects(platform, uniq, 1)
    await platform.drain(dead_letters=1)
    event_id = calls[0]
    async with await platform.as_user("admin") as admin:
        url = f"/api/v1/admin/dead-letters/scoring/{event_id}/discard"
        r = await admin.post(url, json={})
        assert r.status_code == 422
        r = await admin.post(url, json={"reason": "项目已撤销，评分不再需要"})
        assert r.status_code == 204, r.text
        r = await admin.get("/api/v1/admin/dead-letters", params={"service": "scoring"})
        assert event_id not in [i["event_id"] for i in r.json()["items"]]
    audit = scoring_pipeline.tables.audit
    async with job_session() as session:
        reason = await session.scalar(
            select(audit.c.reason).where(
                audit.c.entity == "dead_letter", audit.c.entity_id == event_id, audit.c.action == "discard"
            )
        )
    assert reason == "项目已撤销，评分不再需要"
    assert await facts_for(ids) == 0


async def test_events_survive_redis_flushed_after_the_relay(platform, uniq):
    # issue 11 fault test 3: the relay has marked them published, then Redis forgets all
    ids = await create_projects(platform, uniq, 5)
    with clock.frozen(clock.now()):
        async with job_session() as session:
            assert await registry_pipeline.relay(session, platform.queue) >= 5
        redis = Redis.from_url(REDIS_URL)
        await redis.flushdb()
        await redis.aclose()
        await platform.drain()
        assert await facts_for(ids) == 0  # nothing is left in Redis to deliver them…
        # …until the deliveries are re-sent, unacknowledged, after the redelivery interval
        clock.advance(timedelta(seconds=get_settings().event_redeliver_after_s + 1))
        await platform.drain()
    assert await facts_for(ids) == 5 and await inbox_rows_for(ids) == 5
    delivery = registry_pipeline.tables.delivery
    async with job_session() as session:
        unacked = await session.scalar(
            select(func.count())
            .select_from(delivery)
            .where(delivery.c.acked_at.is_(None), delivery.c.consumer == "scoring")
        )
    assert unacked == 0


@pytest.mark.parametrize("kills", [1, 2])
async def test_connection_killed_under_consumer_is_retried_once(platform, uniq, monkeypatch, kills):
    # issue 11 fault test 6: pg_terminate_backend on the consumer's connection mid-handler
    calls: list[str] = []
    monkeypatch.setitem(HANDLERS, "project.created", failing(kills, calls, kill_connection=True))
    ids = await create_projects(platform, uniq, 1)
    await platform.drain()
    assert len(calls) == kills + 1
    assert await facts_for(ids) == 1 and await inbox_rows_for(ids) == 1
