"""Supervision and the latest published ranking at a glance, for the overview page (R28, R30)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.scoring.bulletin import KIND_ZH, gather_bulletin
from services.scoring.models import AssessmentRun, Notice, Summons
from services.scoring.rubric import METRICS
from shared import clock
from shared.months import previous_month


async def latest_published(session: AsyncSession, year: int) -> str | None:
    """The last month of ``year`` whose assessment is published."""
    return await session.scalar(
        select(AssessmentRun.month)
        .where(AssessmentRun.status == "published", AssessmentRun.month.between(f"{year}-01", f"{year}-12"))
        .order_by(AssessmentRun.month.desc())
        .limit(1)
    )


async def ranking(session: AsyncSession, year: int) -> dict[str, Any] | None:
    """policy R30: the latest published month's ranking and five comparisons, each unit's
    rank beside its rank in the month before (when that month was published too)."""
    month = await latest_published(session, year)
    if month is None:
        return None
    b = await gather_bulletin(session, month)
    before = previous_month(month)
    prev = await session.get(AssessmentRun, before)
    prev_rank = (
        {u["unit_id"]: u["rank"] for u in prev.result["units"]}
        if prev is not None and prev.status == "published"
        else {}
    )
    units = []
    for u in b.units:
        was = prev_rank.get(u["unit_id"])
        units.append(
            {
                "unit_id": u["unit_id"],
                "unit_name": u["unit_name"],
                "kind": u["kind"],
                "kind_name": KIND_ZH[u["kind"]],
                "rank": u["rank"],
                "score": u["score"],
                "comparison_ranks": u["comparison_ranks"],
                "previous_rank": was,
                # up is positive: 3rd last month, 1st now → +2
                "rank_change": None if was is None else was - u["rank"],
            }
        )
    comparisons = [
        {"key": key, "name": table["name"], **{kind: table.get(kind, []) for kind in KIND_ZH}}
        for key, table in b.comparisons.items()
    ]
    return {
        "month": month,
        "published_on": b.published_on,
        "revision": b.revision,
        "previous_month": before if prev_rank else None,
        "units": units,
        "comparisons": comparisons,
        "metric_names": {m: METRICS[m][0] for m in b.metrics},
    }


async def supervision(session: AsyncSession, year: int) -> list[dict[str, Any]]:
    """policy R28: this year's notices and summons, by unit."""
    months = (f"{year}-01", f"{year}-12")
    out: dict[str, dict[str, Any]] = {}
    for unit, n in (
        await session.execute(
            select(Notice.unit_id, func.count()).where(Notice.month.between(*months)).group_by(Notice.unit_id)
        )
    ).all():
        row = out.setdefault(
            unit,
            {"unit_id": unit, "notices": 0, "deputy_summons": 0, "principal_summons": 0, "summons_held": 0},
        )
        row["notices"] += n
    for unit, level, held, n in (
        await session.execute(
            select(Summons.unit_id, Summons.level, Summons.held_on.is_not(None), func.count())
            .where(Summons.month.between(*months))
            .group_by(Summons.unit_id, Summons.level, Summons.held_on.is_not(None))
        )
    ).all():
        row = out.setdefault(
            unit,
            {"unit_id": unit, "notices": 0, "deputy_summons": 0, "principal_summons": 0, "summons_held": 0},
        )
        row[f"{level}_summons"] += n
        row["summons_held"] += n if held else 0
    return sorted(out.values(), key=lambda r: (-r["notices"], r["unit_id"]))


async def overview(session: AsyncSession, *, year: int) -> dict[str, Any]:
    return {
        "year": year,
        "as_of": clock.today(),
        "supervision": await supervision(session, year),
        "ranking": await ranking(session, year),
    }
