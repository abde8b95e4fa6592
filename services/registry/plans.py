"""Declared plans and the summary computed from the records (policy R4, R5, R9, R11)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.access import require_staff
from services.registry.codes import CATEGORIES_ZH, LEVELS_ZH, SCALE_BANDS_ZH
from services.registry.config import registry_settings
from services.registry.mismatch import mismatches
from services.registry.models import Plan, pipeline
from services.registry.schemas_plans import PlanIn
from shared.clock import today
from shared.identity import Principal
from shared.money import money_str, to_yi
from shared.preconditions import IfMatch, require_version

ZERO = Decimal(0)


async def put_plan(
    session: AsyncSession, *, principal: Principal, year: int, data: PlanIn, if_match: IfMatch | None
) -> Plan:
    principal.require_office()
    plan = await session.get(Plan, year, with_for_update=True)
    require_version(if_match, plan.version if plan else None, entity="plan", what=f"{year} 年计划")
    declared = data.model_dump(mode="json", exclude_none=True)
    before = plan.declared if plan else None
    if plan is None:
        plan = Plan(year=year, declared=declared, version=1)
        session.add(plan)
    else:
        plan.declared = declared
    await session.flush()
    await pipeline.audit(
        session,
        principal,
        entity="plan",
        entity_id=year,
        action="declare" if before is None else "update",
        before=before,
        after=declared,
    )
    return plan


_KEY_GROUPS = text("""
WITH k AS (
  SELECT DISTINCT ON (project_id) project_id, level, kind FROM registry.memberships
  WHERE library = 'key' AND since <= :end AND (until IS NULL OR until >= :start)
  ORDER BY project_id, since DESC)
SELECT k.level, k.kind, p.category, p.scale_band, count(*) AS n,
       coalesce(sum(p.total_investment), 0) AS total,
       count(*) FILTER (WHERE p.actual_start <= :end) AS started,
       count(*) FILTER (WHERE (p.stage_dates ->> 'completed')::date <= :end) AS completed
FROM k JOIN registry.projects p ON p.id = k.project_id
GROUP BY 1, 2, 3, 4""")

_LIBRARY_TOTAL = text("""
SELECT count(*) AS n, coalesce(sum(p.total_investment), 0) AS total FROM registry.projects p
WHERE EXISTS (SELECT 1 FROM registry.memberships m WHERE m.project_id = p.id
  AND m.library = :library AND m.since <= :end AND (m.until IS NULL OR m.until >= :start))""")

_COMPLETION_CTE = """
WITH a AS (
  SELECT DISTINCT ON (project_id) project_id, kind FROM registry.memberships
  WHERE library = 'annual' AND since <= :end AND (until IS NULL OR until >= :start)
  ORDER BY project_id, since DESC),
t AS (
  SELECT p.id, p.project_code, p.name, p.unit_id, a.kind, p.total_investment,
    CASE WHEN a.kind = 'new' AND p.total_investment <= CAST(:new_basic_max AS numeric)
              THEN 'basic_completion'
         WHEN a.kind = 'continued' AND p.total_investment <= CAST(:cont_basic_max AS numeric)
              THEN 'basic_completion'
         WHEN a.kind = 'new' AND p.total_investment <= CAST(:new_large_above AS numeric)
              THEN 'new_mid'
         WHEN a.kind = 'new' THEN 'new_large' ELSE 'continued_large' END AS rule,
    CASE WHEN (p.stage_dates ->> 'completed')::date <= :end THEN 100
         WHEN p.last_report_month IS NULL THEN 0
         WHEN p.last_report_month <= :ym THEN p.last_progress_pct
         ELSE coalesce((SELECT r.progress_pct FROM registry.progress_reports r
                        WHERE r.project_id = p.id AND r.current AND r.month <= :ym
                        ORDER BY r.month DESC LIMIT 1), 0) END AS actual_pct
  FROM a JOIN registry.projects p ON p.id = a.project_id),
s AS (
  SELECT t.*, CASE t.rule WHEN 'basic_completion' THEN CAST(:basic AS numeric)
              WHEN 'new_mid' THEN CAST(:new_mid AS numeric)
              WHEN 'new_large' THEN CAST(:new_large AS numeric)
              ELSE CAST(:cont_large AS numeric) END AS target_pct FROM t),
r AS (
  SELECT s.*, CASE WHEN actual_pct >= target_pct THEN 'met'
                   WHEN CAST(:closed AS boolean) THEN 'missed' ELSE 'behind' END AS status FROM s)
"""
_COMPLETION = text(
    _COMPLETION_CTE
    + """SELECT r.*, (SELECT jsonb_object_agg(status, n) FROM
  (SELECT status, count(*) AS n FROM r GROUP BY status) c) AS counts FROM r
ORDER BY (status = 'met'), total_investment DESC, project_code LIMIT :limit"""
)
_COMPLETION_COUNTS = text(_COMPLETION_CTE + "SELECT status, count(*) AS n FROM r GROUP BY status")

_NAMED = text("""
SELECT t.project_id, p.name AS project_name, t.name, t.due_on, t.met_on
FROM registry.targets t JOIN registry.projects p ON p.id = t.project_id
WHERE t.due_on BETWEEN :start AND :end ORDER BY t.due_on, p.name""")


def _fig(n: int, total: Decimal) -> dict[str, Any]:
    return {"count": n, "total_investment": total, "total_yi": to_yi(total)}


def _rate(
    num: Any, den: Any, value: Decimal | None, target: Decimal, met: bool | None = None
) -> dict[str, Any]:
    return {
        "numerator": num,
        "denominator": den,
        "value": value,
        "target": target,
        "met": (value is not None and value >= target) if met is None else met,
    }


def reserve_ratio(reserve_total: Decimal, annual_total: Decimal, target: Decimal) -> dict[str, Any]:
    """policy R5: reserve ≥ target × annual, decided on the exact amounts (never on the
    rounded ratio: 4.995 is not 5); the value is shown to 4 places, with its base."""
    met = bool(annual_total) and reserve_total >= target * annual_total
    value = (reserve_total / annual_total).quantize(Decimal("0.0001"), ROUND_DOWN) if annual_total else None
    out = _rate(money_str(reserve_total), money_str(annual_total), value, target, met)
    out["base"] = {
        "reserve_total": money_str(reserve_total),
        "annual_total": money_str(annual_total),
        "required_reserve": money_str(target * annual_total),
        "rule": "储备库总投资 ≥ 目标倍数 × 年度建设项目总投资（按精确值判定）",
    }
    return out


def municipal_targets(m: dict[str, int], closed: bool) -> dict[str, dict[str, Any]]:
    """policy R11: every municipal continued project basically completed, every municipal new
    one started, within the year — met, pending (the year runs) or missed (the year closed)."""
    out = {}
    for name, done, of in (
        ("continued_completed", m["continued_completed"], m["continued"]),
        ("new_started", m["new_started"], m["new"]),
    ):
        met = done >= of
        out[name] = {
            "numerator": done,
            "denominator": of,
            "target": of,
            "met": met,
            "status": "met" if met else ("missed" if closed else "pending"),
        }
    return out


async def _key_actuals(session: AsyncSession, params: dict) -> dict[str, Any]:
    rows = (await session.execute(_KEY_GROUPS, params)).all()
    agg: dict[str, dict[str, list]] = {
        d: defaultdict(lambda: [0, ZERO]) for d in ("level", "band", "category")
    }
    key = [0, ZERO]
    municipal = {"continued": 0, "new": 0, "continued_completed": 0, "new_started": 0}
    county = [0, 0]
    for r in rows:
        for dim, value in (("level", r.level), ("band", r.scale_band), ("category", r.category)):
            agg[dim][value][0] += r.n
            agg[dim][value][1] += r.total
        key[0] += r.n
        key[1] += r.total
        if r.level == "municipal" and r.kind in ("continued", "new"):
            municipal[r.kind] += r.n
            municipal["continued_completed" if r.kind == "continued" else "new_started"] += (
                r.completed if r.kind == "continued" else r.started
            )
        if r.level == "county":
            county[0] += r.n
            county[1] += r.started
    return {"key": key, "agg": agg, "municipal": municipal, "county": county}


async def summary(
    session: AsyncSession, *, principal: Principal, year: int, limit: int = 200
) -> dict[str, Any]:
    require_staff(principal)
    # these scans run once each: compiling them (JIT) cost more than running them (~0.45 s)
    await session.execute(text("SET LOCAL jit = off"))
    settings = registry_settings()
    start, end = date(year, 1, 1), date(year, 12, 31)
    params = {"start": start, "end": end}
    plan = await session.scalar(select(Plan).where(Plan.year == year))
    declared = PlanIn.model_validate(plan.declared) if plan else None
    k = await _key_actuals(session, params)
    annual = (await session.execute(_LIBRARY_TOTAL, {**params, "library": "annual"})).one()
    reserve = (await session.execute(_LIBRARY_TOTAL, {**params, "library": "reserve"})).one()
    start_target = (declared and declared.county_start_rate_target) or settings.county_start_rate_target
    ratio_target = (declared and declared.reserve_ratio_target) or settings.reserve_ratio_target
    county_n, county_started = k["county"]
    start_rate = (Decimal(county_started) / county_n).quantize(Decimal("0.0001")) if county_n else None
    completion = await _completion(session, params, year, limit)
    named = [dict(r._mapping) for r in (await session.execute(_NAMED, params)).all()]
    on = today()
    named_items = []
    counts = {"met": 0, "missed": 0, "pending": 0}
    for n in named:
        st = (
            ("met" if n["met_on"] <= n["due_on"] else "missed")
            if n["met_on"]
            else ("missed" if on > n["due_on"] else "pending")
        )
        counts[st] += 1
        named_items.append(
            {
                "project_id": n["project_id"],
                "name": n["project_name"],
                "target": n["name"],
                "due_on": n["due_on"],
                "met_on": n["met_on"],
                "status": st,
            }
        )
    agg = k["agg"]
    out = {
        "year": year,
        "declared": declared,
        "key": _fig(*k["key"]),
        "by_level": {lv: _fig(*agg["level"].get(lv, [0, ZERO])) for lv in LEVELS_ZH},
        "by_band": {b: _fig(*agg["band"].get(b, [0, ZERO])) for b in SCALE_BANDS_ZH},
        "by_category": {c: _fig(*agg["category"].get(c, [0, ZERO])) for c in CATEGORIES_ZH},
        "municipal": k["municipal"],
        "municipal_targets": municipal_targets(k["municipal"], on > end),
        "annual": _fig(annual.n, annual.total),
        "reserve": _fig(reserve.n, reserve.total),
        "county_start_rate": _rate(county_started, county_n, start_rate, start_target),
        "reserve_ratio": reserve_ratio(reserve.total, annual.total, ratio_target),
        **completion,
        "named_target_counts": counts,
        "named_targets": named_items[:limit],
    }
    out["mismatches"] = mismatches(declared, out) if declared else []
    return out


async def _completion(session: AsyncSession, params: dict, year: int, limit: int) -> dict:
    """policy R9: each annual project's year-end target by kind and size, and its status."""
    s = registry_settings()
    bind = {
        **params,
        "ym": f"{year}-12",
        "closed": today() > params["end"],
        "basic": s.r9_basic_completion_pct,
        "new_mid": s.r9_new_mid_pct,
        "new_large": s.r9_new_large_pct,
        "cont_large": s.r9_continued_large_pct,
        # policy R9: the amount thresholds (万元; ≤ is "以下", > is "以上" of the text)
        "new_basic_max": s.r9_new_basic_max,
        "cont_basic_max": s.r9_continued_basic_max,
        "new_large_above": s.r9_new_large_above,
    }
    counts = {"met": 0, "behind": 0, "missed": 0}
    rows = (await session.execute(_COMPLETION, {**bind, "limit": max(limit, 1)})).all()
    if rows:  # the status counts ride on every row (one pass over the annual projects)
        counts.update(rows[0].counts)
    rows = rows[:limit]
    items = [
        {
            "project_id": r.id,
            "project_code": r.project_code,
            "name": r.name,
            "unit_id": r.unit_id,
            "kind": r.kind,
            "total_investment": r.total_investment,
            "rule": r.rule,
            "target_pct": r.target_pct,
            "actual_pct": r.actual_pct,
            "status": r.status,
        }
        for r in rows
    ]
    return {
        "completion_counts": counts,
        "completion_targets": items,
        "completion_targets_total": sum(counts.values()),
    }
