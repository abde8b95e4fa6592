"""The registry's cron job: the daily rules, run once per day across worker replicas."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert

from services.registry.models import JobRun
from services.registry.rules import run_daily
from shared.clock import today
from shared.db import job_session
from shared.jsonutil import to_jsonable


async def daily_rules(ctx: dict[str, Any], on: str | None = None) -> dict[str, Any]:
    """policy R6, R13. arq's cron id keeps one run per tick; the job_runs row keeps one per day
    even if replicas' clocks or restarts disagree."""
    day = date.fromisoformat(on) if on else today()
    async with job_session() as session:
        claimed = await session.execute(
            insert(JobRun)
            .values(job="daily_rules", run_on=day)
            .on_conflict_do_nothing()
            .returning(JobRun.job)
        )
        if claimed.first() is None:
            return {"skipped": True, "on": day.isoformat()}
        result = await run_daily(session, day)
        await session.execute(
            update(JobRun)
            .where(JobRun.job == "daily_rules", JobRun.run_on == day)
            .values(result=to_jsonable(result))
        )
    return result
