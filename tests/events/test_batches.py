"""Batched delivery (issue 11, shared.consume): a relay pass reaches a consumer as ONE job
whose events are applied in one transaction; a failing event leaves the batch for its own
retries (or the dead letters) while the others commit once; duplicates apply once."""

from __future__ import annotations

import uuid
from collections import Counter

from sqlalchemy import select

from services.registry.models import pipeline as registry_pipeline
from services.scoring.consumers import HANDLERS
from services.scoring.models import ProjectFact
from services.scoring.models import pipeline as scoring_pipeline
from shared.db import job_session
from tests.events.helpers import create_projects, facts_for, inbox_rows_for

REAL = HANDLERS["project.created"]


def counting(calls: Counter, bad: uuid.UUID | None = None, fail_times: int | None = None):
    """The real handler, counting calls per project; ``bad`` raises (``fail_times`` times,
    always when None)."""

    async def handler(session, event):
        project_id = event["payload"].id
        calls[project_id] += 1
        if project_id == bad and (fail_times is None or calls[project_id] <= fail_times):
            raise RuntimeError("该项目评分数据异常（演练）")
        await REAL(session, event)

    return handler


async def _processed_at(project_ids: list[uuid.UUID]) -> set:
    inbox = scoring_pipeline.tables.inbox
    async with job_session() as session:
        return set(
            (
                await session.scalars(
                    select(inbox.c.processed_at)
                    .join(ProjectFact, ProjectFact.created_event_id == inbox.c.event_id)
                    .where(ProjectFact.project_id.in_(project_ids))
                )
            ).all()
        )


async def test_one_failing_event_leaves_the_batch_and_is_dead_lettered(platform, uniq, monkeypatch):
    # architecture (events never lost, applied once): one bad event among six is parked
    # after its tries; the five others are applied once, together
    calls: Counter = Counter()
    ids = await create_projects(platform, uniq, 6)
    bad = ids[2]
    monkeypatch.setitem(HANDLERS, "project.created", counting(calls, bad))
    await platform.drain(dead_letters=1)
    good = [i for i in ids if i != bad]
    assert await facts_for(good) == 5 and await inbox_rows_for(good) == 5
    assert await facts_for([bad]) == 0
    # one inbox statement for the five: the batch committed as one transaction
    assert len(await _processed_at(good)) == 1
    # try 1 in the batch, then tries 2–5 on its own (KPP_EVENT_RETRY_DELAYS_S has 4 delays)
    assert calls[bad] == 5
    dead = scoring_pipeline.tables.dead_letter
    async with job_session() as session:
        letter = (
            await session.execute(
                select(dead.c.tries, dead.c.event)
                .where(dead.c.type == "project.created")
                .order_by(dead.c.last_failed_at.desc())
            )
        ).first()
    assert letter.tries == 5 and letter.event["payload"]["id"] == str(bad)


async def test_event_failing_once_in_a_batch_is_retried_and_applied_once(platform, uniq, monkeypatch):
    calls: Counter = Counter()
    ids = await create_projects(platform, uniq, 4)
    monkeypatch.setitem(HANDLERS, "project.created", counting(calls, ids[0], fail_times=1))
    await platform.drain()
    assert await facts_for(ids) == 4 and await inbox_rows_for(ids) == 4
    assert calls[ids[0]] == 2  # its failed try in the batch, then its own retry


async def test_duplicates_in_a_batch_are_applied_once(platform, uniq, monkeypatch):
    # architecture: an event id processed twice has one effect — within one batch too
    calls: Counter = Counter()
    monkeypatch.setitem(HANDLERS, "project.created", counting(calls))
    ids = await create_projects(platform, uniq, 2)
    out = registry_pipeline.tables.outbox
    async with job_session() as session:
        rows = (
            await session.execute(
                select(out.c.id, out.c.type, out.c.key, out.c.payload, out.c.request_id, out.c.created_at)
                .where(out.c.type == "project.created", out.c.key.in_([str(i) for i in ids]))
                .order_by(out.c.seq)
            )
        ).all()
    first, second = (registry_pipeline._event(r) for r in rows)
    await platform.queue.enqueue_job(
        "handle_events", [first, first, second, first], _job_id=f"evts:test:{uniq}", _queue_name="kpp:scoring"
    )
    await platform.drain()  # the relay's own delivery of both arrives as well
    assert await facts_for(ids) == 2 and await inbox_rows_for(ids) == 2
    assert calls[ids[0]] == 1 and calls[ids[1]] == 1
