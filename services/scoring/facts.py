"""A month's inputs per unit, aggregated in SQL from the fact tables (policy R27, R29, R30).

One GROUP BY per fact table; Python only merges the rows and derives the rates. The
result is plain JSON (counts as ints, money and rates as decimal strings) that a run
stores verbatim, so scoring can be repeated from it exactly.
"""

from __future__ import annotations

import hashlib
import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.scoring.rubric import KINDS, RATE_Q
from shared.months import month_bounds

MONEY_Q = Decimal("0.0001")

_QUERIES: dict[str, str] = {
    "projects": """
        SELECT unit_id,
          count(*) FILTER (WHERE actual_start BETWEEN :first AND :last
                             AND NOT start_inferred) AS starts,
          count(*) FILTER (WHERE planned_start BETWEEN :year_first AND :last) AS start_planned,
          count(*) FILTER (WHERE planned_start BETWEEN :year_first AND :last
                             AND actual_start <= :last) AS start_done,
          count(*) FILTER (WHERE reserve_since BETWEEN :first AND :last) AS reserve_added,
          count(*) FILTER (WHERE signed_on BETWEEN :first AND :last) AS signed_count,
          coalesce(sum(total_investment) FILTER (WHERE signed_on BETWEEN :first AND :last), 0)
            AS signed_investment,
          count(*) FILTER (WHERE completed_on BETWEEN :first AND :last) AS completions,
          count(*) FILTER (WHERE effective_on BETWEEN :first AND :last) AS in_production
        FROM scoring.project_facts GROUP BY unit_id""",
    "progress": """
        SELECT unit_id,
          count(*) FILTER (WHERE month = :month) AS reports_due,
          count(*) FILTER (WHERE month = :month AND reported AND on_time) AS reports_on_time,
          coalesce(sum(investment_month) FILTER (WHERE month = :month), 0) AS investment_completed,
          coalesce(sum(investment_month), 0) AS investment_ytd
        FROM scoring.progress_facts WHERE month BETWEEN :year_month AND :month GROUP BY unit_id""",
    "agency": """
        SELECT a.agency AS unit_id, count(*) AS approvals_done,
          count(*) FILTER (WHERE f.on_time) AS approvals_on_time
        FROM scoring.approval_facts f, unnest(f.agency_unit_ids) AS a(agency)
        WHERE f.completed_on BETWEEN :first AND :last GROUP BY a.agency""",
    "cases": """
        SELECT unit_id, count(*) AS approvals_completed FROM scoring.approval_facts
        WHERE completed_on BETWEEN :first AND :last AND unit_id IS NOT NULL GROUP BY unit_id""",
    "issues": """
        SELECT unit_id, count(*) AS problems_closed,
          count(*) FILTER (WHERE closed_on_time) AS problems_on_time,
          count(*) FILTER (WHERE satisfied IS NOT NULL) AS satisfaction_rated,
          count(*) FILTER (WHERE satisfied) AS satisfied
        FROM scoring.issue_facts WHERE closed_on BETWEEN :first AND :last AND unit_id IS NOT NULL
        GROUP BY unit_id""",
    "matters": """
        SELECT unit_id, count(*) AS overdue_matters FROM scoring.matter_facts
        WHERE month = :month AND overdue AND unit_id IS NOT NULL GROUP BY unit_id""",
    "notices": """
        SELECT unit_id, count(*) AS notices FROM scoring.notices WHERE month = :month GROUP BY unit_id""",
}

COUNTS = (
    "starts",
    "start_planned",
    "start_done",
    "reserve_added",
    "signed_count",
    "completions",
    "in_production",
    "reports_due",
    "reports_on_time",
    "approvals_done",
    "approvals_on_time",
    "approvals_completed",
    "problems_closed",
    "problems_on_time",
    "satisfaction_rated",
    "satisfied",
    "overdue_matters",
    "notices",
)
AMOUNTS = ("signed_investment", "investment_completed", "investment_ytd")


def _rate(num: int, den: int) -> str | None:
    if den <= 0:
        return None
    return str((Decimal(num) / Decimal(den)).quantize(RATE_Q, ROUND_HALF_UP))


def derive(m: dict[str, Any]) -> dict[str, Any]:
    """Rates and comparison values from one unit's raw counts."""
    m["start_rate"] = _rate(m["start_done"], m["start_planned"])
    m["report_on_time_rate"] = _rate(m["reports_on_time"], m["reports_due"])
    m["approval_on_time_rate"] = _rate(m["approvals_on_time"], m["approvals_done"])
    m["problem_on_time_rate"] = _rate(m["problems_on_time"], m["problems_closed"])
    m["satisfaction_rate"] = _rate(m["satisfied"], m["satisfaction_rated"])
    rates = [
        Decimal(m[k])
        for k in ("approval_on_time_rate", "problem_on_time_rate", "satisfaction_rate", "report_on_time_rate")
        if m[k] is not None
    ]
    m["service_index"] = (
        str((sum(rates, Decimal(0)) / len(rates)).quantize(RATE_Q, ROUND_HALF_UP)) if rates else None
    )
    m["overdue_matters_neg"] = -m["overdue_matters"]
    return m


async def collect_inputs(
    session: AsyncSession, *, month: str, units: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """Per township and department of the directory: the month's raw figures and rates."""
    first, last = month_bounds(month)
    params = {
        "first": first,
        "last": last,
        "month": month,
        "year_first": first.replace(month=1),
        "year_month": f"{first.year:04d}-01",
    }
    raw: dict[str, dict[str, Any]] = {}
    for sql in _QUERIES.values():
        for row in (await session.execute(text(sql), params)).mappings():
            raw.setdefault(row["unit_id"], {}).update({k: v for k, v in row.items() if k != "unit_id"})
    out: dict[str, Any] = {}
    for uid in sorted(units):
        unit = units[uid]
        if unit.get("kind") not in KINDS:
            continue
        got = raw.get(uid, {})
        metrics: dict[str, Any] = {k: int(got.get(k) or 0) for k in COUNTS}
        metrics.update({k: str(Decimal(got.get(k) or 0).quantize(MONEY_Q)) for k in AMOUNTS})
        out[uid] = {"name": unit.get("name") or uid, "kind": unit["kind"], "metrics": derive(metrics)}
    return {"month": month, "units": out}


def digest(data: Any) -> str:
    return hashlib.sha256(
        json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    ).hexdigest()
