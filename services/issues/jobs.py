"""arq jobs of the issues service: the supervision sweep (unique cron, idempotent)."""

from __future__ import annotations

from datetime import date
from typing import Any

from arq import cron

from services.issues import supervision
from shared.db import job_session


async def sweep_supervision(ctx: dict[str, Any], on: str | None = None) -> dict[str, int]:
    """Overdue → 紧盯督办 + issue.overdue; reminders before deadlines and for pending visits."""
    async with job_session() as session:
        return await supervision.sweep(session, on=date.fromisoformat(on) if on else None)


# hourly (and at start-up): a problem becomes overdue the first hour of the day after its
# deadline; unique=True keeps one run across worker replicas, the sweep itself is idempotent
CRON_JOBS = [
    cron(
        sweep_supervision,
        name="issues_sweep_supervision",
        minute={7},
        unique=True,
        run_at_startup=True,
        keep_result=0,
        timeout=600,
    ),
]
