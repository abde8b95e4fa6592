"""Investment completed month by month in a year (policy R6, R27), for the overview's trend."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.access import require_staff
from shared.identity import Principal
from shared.money import money_str, to_yi

# the current version of each month's report (a correction replaces it, R6); every project
# that reported counts, whichever library it is in
_MONTHLY = text("""
SELECT r.month, count(*) AS reports, coalesce(sum(r.investment_month), 0) AS invested
FROM registry.progress_reports r
WHERE r.current AND r.month BETWEEN :first AND :last
GROUP BY r.month ORDER BY r.month""")


async def monthly(session: AsyncSession, *, principal: Principal, year: int) -> dict[str, Any]:
    require_staff(principal)
    rows = {
        r.month: r
        for r in (await session.execute(_MONTHLY, {"first": f"{year}-01", "last": f"{year}-12"})).all()
    }
    months, running = [], Decimal(0)
    for m in range(1, 13):
        month = f"{year}-{m:02d}"
        r = rows.get(month)
        invested = r.invested if r else Decimal(0)
        running += invested
        months.append(
            {
                "month": month,
                "reports": r.reports if r else 0,
                "investment_month": money_str(invested),
                "investment_month_yi": to_yi(invested),
                "cumulative": money_str(running),
                "cumulative_yi": to_yi(running),
            }
        )
    return {"year": year, "months": months, "total": money_str(running), "total_yi": to_yi(running)}
