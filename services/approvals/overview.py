"""The year's approval clocks at a glance, for the overview page (policy R16, R17)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, extract, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.approvals.access import read_scope
from services.approvals.calendar_store import current_calendar
from services.approvals.config import approvals_settings
from services.approvals.kinds import LOW_RISK_SMALL
from services.approvals.models import ApprovalCase
from services.approvals.recompute import compute_clock, load_log
from shared import clock
from shared.identity import Principal

OPEN = ("new", "submitted", "awaiting_supplement", "running", "paused")


def standing(case: ApprovalCase) -> str:
    """on_time | warning | overdue | rejected: a finished case counts as it finished (R17)."""
    if case.state == "rejected":
        return "rejected"
    if case.state == "done":
        late = (
            case.due_date is not None and case.completed_on is not None and case.completed_on > case.due_date
        )
        return "overdue" if late else "on_time"
    if case.state in ("warning", "overdue"):
        return case.state
    return "on_time"


async def overview(session: AsyncSession, *, principal: Principal, year: int) -> dict[str, Any]:
    """Cases received (or opened) in ``year``, by agency and standing; low-risk chains' days."""
    q = select(ApprovalCase).where(
        or_(
            and_(
                ApprovalCase.received_on >= date(year, 1, 1), ApprovalCase.received_on <= date(year, 12, 31)
            ),
            and_(
                ApprovalCase.received_on.is_(None),
                extract("year", func.timezone("Asia/Shanghai", ApprovalCase.created_at)) == year,
            ),
        )
    )
    q = q.where(read_scope(principal))
    cases = list(await session.scalars(q.order_by(ApprovalCase.received_on, ApprovalCase.id)))
    zero = {"on_time": 0, "warning": 0, "overdue": 0, "rejected": 0}
    totals = dict(zero)
    agencies: dict[str, dict[str, int]] = {}
    for case in cases:
        st = standing(case)
        totals[st] += 1
        for agency in case.agency_unit_ids or [""]:
            agencies.setdefault(agency, dict(zero))[st] += 1
    limit = approvals_settings().low_risk_small_total_days
    chains = []
    low_risk = [c for c in cases if c.kind == LOW_RISK_SMALL]
    if low_risk:
        cal, as_of = await current_calendar(session), clock.today()
        for case in low_risk:
            # policy R16: only the agencies' time counts; the chain is the sum of its steps
            result, _ = compute_clock(case, await load_log(session, case.id), cal, as_of)
            chains.append(
                {
                    "case_id": case.id,
                    "project_name": case.project_name,
                    "unit_id": case.unit_id,
                    "state": case.state,
                    "counted_days": result.chain.used_days,
                    "limit_days": limit,
                    "within_limit": result.chain.used_days <= limit,
                }
            )
    return {
        "year": year,
        "as_of": clock.today(),
        "total": len(cases),
        "by_standing": totals,
        "by_agency": [{"agency_unit_id": a or None, **v} for a, v in sorted(agencies.items())],
        "low_risk_limit_days": limit,
        "low_risk_chains": chains,
    }
