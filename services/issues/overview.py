"""The problem closed loop at a glance, for the overview page (policy R22–R25)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.issues import clock
from services.issues.access import read_scope
from services.issues.flow import OPEN_STEPS, STEPS
from services.issues.models import Issue, Visit
from shared.identity import Principal


async def overview(session: AsyncSession, *, principal: Principal, year: int) -> dict[str, Any]:
    """Problems reported in ``year``: by step (open ones and closed), overdue, redo, visits."""
    on = clock.today()
    start, end = date(year, 1, 1), date(year, 12, 31)
    scope = and_(
        read_scope(principal),
        func.date(func.timezone("Asia/Shanghai", Issue.created_at)).between(start, end),
    )
    # policy R24: an assigned matter past its deadline is overdue (as the list's filter)
    overdue = and_(Issue.step == "assigned", Issue.deadline < on)
    rows = (
        await session.execute(
            select(
                Issue.step,
                func.count(),
                func.count().filter(overdue),
                func.coalesce(func.sum(Issue.redo_count), 0),
                func.count().filter(Issue.redo_count > 0),
            )
            .where(scope)
            .group_by(Issue.step)
        )
    ).all()
    by_step = {s: {"step": s, "step_no": STEPS[s][0], "step_name": STEPS[s][1], "count": 0} for s in STEPS}
    total = overdue_n = redo_sum = redone = 0
    for step, n, late, redo, with_redo in rows:
        by_step.setdefault(step, {"step": step, "step_no": 0, "step_name": step, "count": 0})
        by_step[step]["count"] = n
        total, overdue_n = total + n, overdue_n + late
        redo_sum, redone = redo_sum + int(redo), redone + with_redo
    # policy R25: the enterprises' verdicts on the follow-up visits of these problems
    visits = (
        await session.execute(
            select(func.count().filter(Visit.satisfied), func.count().filter(~Visit.satisfied))
            .join(Issue, Issue.id == Visit.issue_id)
            .where(scope)
        )
    ).one()
    closed = (
        await session.execute(
            select(func.count(), func.count().filter(Issue.satisfied.is_(True))).where(
                scope, Issue.step == "closed"
            )
        )
    ).one()
    return {
        "year": year,
        "as_of": on,
        "total": total,
        "open": sum(v["count"] for s, v in by_step.items() if s in OPEN_STEPS),
        "by_step": sorted(by_step.values(), key=lambda v: (v["step_no"], v["step"])),
        "overdue": overdue_n,
        "redo_total": redo_sum,
        "issues_redone": redone,
        "visits": {"satisfied": visits[0], "dissatisfied": visits[1]},
        "closed": closed[0],
        "closed_satisfied": closed[1],
    }
