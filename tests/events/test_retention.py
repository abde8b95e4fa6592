"""Retention (issue 11): published events every consumer acknowledged, and inbox rows, go
after KPP_EVENT_RETENTION_DAYS (30); an unacknowledged delivery keeps its event."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select

from services.registry.models import pipeline as registry_pipeline
from services.scoring.models import pipeline as scoring_pipeline
from shared import contracts
from shared.db import job_session

# long before any other test's events, so pruning here touches only this test's rows
LONG_AGO = datetime.fromisoformat("2001-01-05T09:00:00+08:00")


async def _count(table, column, ids) -> int:
    async with job_session() as session:
        return await session.scalar(select(func.count()).select_from(table).where(column.in_(ids)))


async def _prune_all() -> None:
    async with job_session() as session:
        await registry_pipeline.prune(session)
        await scoring_pipeline.prune(session)


async def test_acknowledged_events_and_inbox_rows_are_pruned_after_30_days(platform, clock_at):
    clock_at(LONG_AGO)
    ids = []
    async with job_session() as session:
        for month in ("2000-11", "2000-12"):
            ids.append(
                await registry_pipeline.emit(
                    session,
                    contracts.build(
                        "project.report_missing",
                        {
                            "project_id": uuid.uuid4(),
                            "unit_id": "town-donghe",
                            "month": month,
                            "deadline": "2001-01-05",
                        },
                    ),
                )
            )
    await platform.drain()  # consumed by scoring and the gateway, acknowledged
    outbox, delivery = registry_pipeline.tables.outbox, registry_pipeline.tables.delivery
    inbox = scoring_pipeline.tables.inbox
    # one more event, published but never acknowledged by scoring (Redis lost it, say)
    stuck = uuid.uuid4()
    async with job_session() as session:
        await session.execute(
            insert(outbox).values(id=stuck, type="project.report_missing", payload={}, published_at=LONG_AGO)
        )
        await session.execute(insert(delivery).values(event_id=stuck, consumer="scoring", sent_at=LONG_AGO))
    try:
        # 29 days on: everything is kept
        clock_at(LONG_AGO + timedelta(days=29))
        await _prune_all()
        assert await _count(outbox, outbox.c.id, [*ids, stuck]) == 3
        assert await _count(inbox, inbox.c.event_id, ids) == 2
        # 31 days on (KPP_EVENT_RETENTION_DAYS = 30): the acknowledged ones go, the stuck stays
        clock_at(LONG_AGO + timedelta(days=31))
        await _prune_all()
        assert await _count(outbox, outbox.c.id, ids) == 0
        assert await _count(delivery, delivery.c.event_id, ids) == 0
        assert await _count(inbox, inbox.c.event_id, ids) == 0
        assert await _count(outbox, outbox.c.id, [stuck]) == 1
        assert await _count(delivery, delivery.c.event_id, [stuck]) == 1
    finally:
        async with job_session() as session:
            await session.execute(delete(delivery).where(delivery.c.event_id == stuck))
            await session.execute(delete(outbox).where(outbox.c.id == stuck))


def test_prune_runs_daily_on_every_workers_cron_queue():
    # the daily 03:40 cron of each service's cron worker (unique across replicas)
    import importlib

    for service in ("registry", "approvals", "issues", "scoring", "gateway"):
        settings = importlib.import_module(f"services.{service}.worker").WorkerSettings
        jobs = {c.name: c for c in settings.CronWorkerSettings.cron_jobs}
        prune = jobs[f"{service}_prune_events"]
        assert (prune.hour, prune.minute, prune.unique) == ({3}, {40}, True)
