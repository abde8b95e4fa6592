"""arq jobs of the approvals service: the sweeper cron and the exact per-moment job."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from services.approvals.sweeper import due_soon, job_id, sweep
from shared import clock
from shared.db import job_session
from shared.events import queue_name

log = logging.getLogger("kpp.approvals.jobs")


async def sweep_clocks(ctx: dict[str, Any]) -> dict[str, int]:
    """Catch up every clock whose threshold passed, then schedule the exact jobs ahead."""
    total = {"moved": 0, "events": 0, "scheduled": 0}
    while True:
        async with job_session() as session:
            counts = await sweep(session)
        total["moved"] += counts["moved"]
        total["events"] += counts["events"]
        if counts["moved"] == 0:
            break
    async with job_session() as session:
        upcoming = await due_soon(session)
    redis = ctx["redis"]
    for case_id, at in upcoming:
        job = await redis.enqueue_job(
            "clock_due",
            str(case_id),
            _job_id=job_id(case_id, at),
            _defer_until=at,
            _queue_name=queue_name("approvals"),
        )
        total["scheduled"] += job is not None
    if total["moved"]:
        log.info("sweep moved %(moved)s clocks, %(events)s events", total)
    return total


async def clock_due(ctx: dict[str, Any], case_id: str) -> dict[str, int]:
    """The exact job at a due moment: the sweep for one case (idempotent)."""
    async with job_session() as session:
        return await sweep(session, case_id=uuid.UUID(case_id), now=clock.now())
