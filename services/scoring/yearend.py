"""Year-end assessment (policy R29): the published months combined with the year-end items.

year score = 70 % × mean of the unit's published monthly scores
           + 30 % × year-end items score (100 × mean of the unit's applicable year rates:
             start rate, monthly reports on time, problems resolved on time, assignments
             finished by their deadline; a unit with none applicable gets 100).
Commended: the top 20 % (at least one) of townships and of departments by year score,
excluding any unit summoned (约谈) during the year; commended units get the next-year
preliminary-work funding priority flag.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.scoring.models import AssessmentRun
from services.scoring.rubric import CENT, KINDS, RATE_Q, competition_ranks

MONTHS_SHARE = Decimal("0.70")
ITEMS_SHARE = Decimal("0.30")
COMMEND_SHARE = Decimal("0.20")

YEAR_ITEMS_SQL = {
    "start_rate": """
        SELECT unit_id, count(*) AS den, count(*) FILTER (WHERE actual_start <= :last) AS num
        FROM scoring.project_facts WHERE planned_start BETWEEN :first AND :last GROUP BY unit_id""",
    "report_on_time_rate": """
        SELECT unit_id, count(*) AS den, count(*) FILTER (WHERE reported AND on_time) AS num
        FROM scoring.progress_facts WHERE month BETWEEN :m1 AND :m12 GROUP BY unit_id""",
    "problem_on_time_rate": """
        SELECT unit_id, count(*) AS den, count(*) FILTER (WHERE closed_on_time) AS num
        FROM scoring.issue_facts WHERE closed_on BETWEEN :first AND :last AND unit_id IS NOT NULL
        GROUP BY unit_id""",
    "assignment_on_time_rate": """
        SELECT unit_id, count(*) AS den,
          count(*) FILTER (WHERE completed_on <= deadline AND status IN ('completed', 'accepted')) AS num
        FROM scoring.assignments WHERE deadline BETWEEN :first AND :last GROUP BY unit_id""",
}
YEAR_ITEM_NAMES = {
    "start_rate": "年度计划开工率",
    "report_on_time_rate": "月报按时报送率",
    "problem_on_time_rate": "问题按期办结率",
    "assignment_on_time_rate": "交办事项按期办结率",
}


async def year_result(session: AsyncSession, *, year: int) -> dict[str, Any]:
    runs = (
        await session.scalars(
            select(AssessmentRun)
            .where(AssessmentRun.month.like(f"{year:04d}-%"), AssessmentRun.status == "published")
            .order_by(AssessmentRun.month)
        )
    ).all()
    units: dict[str, dict[str, Any]] = {}
    for run in runs:
        for row in run.result["units"]:
            u = units.setdefault(row["unit_id"], {"unit_id": row["unit_id"], "monthly": {}})
            u.update(unit_name=row["unit_name"], kind=row["kind"])
            u["monthly"][run.month] = row["score"]
    params = {
        "first": date(year, 1, 1),
        "last": date(year, 12, 31),
        "m1": f"{year:04d}-01",
        "m12": f"{year:04d}-12",
    }
    rates: dict[str, dict[str, str]] = {}
    for key, sql in YEAR_ITEMS_SQL.items():
        for r in (await session.execute(text(sql), params)).mappings():
            if r["den"]:
                rates.setdefault(r["unit_id"], {})[key] = str(
                    (Decimal(r["num"]) / Decimal(r["den"])).quantize(RATE_Q, ROUND_HALF_UP)
                )
    summoned = {
        r.unit_id: (r.deputy, r.principal)
        for r in (
            await session.execute(
                text(
                    "SELECT unit_id, count(*) FILTER (WHERE level = 'deputy') AS deputy, "
                    "count(*) FILTER (WHERE level = 'principal') AS principal "
                    "FROM scoring.summons WHERE month LIKE :y GROUP BY unit_id"
                ),
                {"y": f"{year:04d}-%"},
            )
        )
    }
    for uid, u in units.items():
        scores = [Decimal(s) for s in u["monthly"].values()]
        months_avg = (sum(scores, Decimal(0)) / len(scores)).quantize(CENT, ROUND_HALF_UP)
        items = rates.get(uid, {})
        items_score = (
            Decimal(100) * sum((Decimal(v) for v in items.values()), Decimal(0)) / len(items)
            if items
            else Decimal(100)
        ).quantize(CENT, ROUND_HALF_UP)
        deputy, principal = summoned.get(uid, (0, 0))
        total = (months_avg * MONTHS_SHARE + items_score * ITEMS_SHARE).quantize(CENT, ROUND_HALF_UP)
        u.update(
            months_average=str(months_avg),
            year_items=items,
            year_items_score=str(items_score),
            summons_deputy=int(deputy),
            summons_principal=int(principal),
            score=str(total),
        )
    tables: dict[str, list[dict[str, Any]]] = {}
    commended: list[dict[str, Any]] = []
    for kind in KINDS:
        members = {uid: u for uid, u in units.items() if u["kind"] == kind}
        ranks = competition_ranks({uid: Decimal(u["score"]) for uid, u in members.items()})
        quota = max(1, math.ceil(len(members) * COMMEND_SHARE)) if members else 0
        rows = []
        for uid in sorted(members, key=lambda x: (ranks[x], x)):
            u = members[uid]
            ok = ranks[uid] <= quota and u["summons_deputy"] + u["summons_principal"] == 0
            u.update(rank=ranks[uid], commended=ok, funding_priority=ok)
            rows.append(u)
            if ok:
                commended.append(
                    {
                        "unit_id": uid,
                        "unit_name": u["unit_name"],
                        "kind": kind,
                        "rank": ranks[uid],
                        "score": u["score"],
                    }
                )
        tables[kind] = rows
    months = [r.month for r in runs]
    return {
        "year": year,
        "final": len(months) == 12,
        "months_published": months,
        "formula": {
            "months_share": str(MONTHS_SHARE),
            "year_items_share": str(ITEMS_SHARE),
            "commend_share": str(COMMEND_SHARE),
            "year_items": YEAR_ITEM_NAMES,
        },
        **tables,
        "commendations": commended,
        "funding_priority": [c["unit_id"] for c in commended],
    }
