"""arq jobs of the scoring service: the monthly assessment on the 1st (policy R27, R29)."""

from __future__ import annotations

from typing import Any

from arq import cron

from services.scoring.assessment import run_month
from shared.clients.units import unit_directory
from shared.clock import today
from shared.db import job_session
from shared.identity import SYSTEM_PRINCIPAL
from shared.months import month_of, previous_month


async def monthly_assessment(ctx: dict[str, Any], month: str | None = None) -> dict[str, Any]:
    """Run last month's assessment as a draft (idempotent: a second run changes nothing)."""
    month = month or previous_month(month_of(today()))
    units = await unit_directory(refresh=True)
    if not units:
        raise RuntimeError("unit directory unreachable; arq retries the job")
    async with job_session() as session:
        run, info = await run_month(session, principal=SYSTEM_PRINCIPAL, month=month, units=units)
        return {"month": run.month, "status": run.status, "revision": run.revision, **info}


# unique=True: one enqueue per schedule time across every worker replica (arq cron job id);
# the run itself also takes a per-month advisory lock and is idempotent.
MONTHLY_CRON = cron(
    monthly_assessment,
    name="scoring_monthly_assessment",
    day=1,
    hour=1,
    minute=30,
    unique=True,
    timeout=900,
    keep_result=86400,
)
