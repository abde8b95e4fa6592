"""Monthly progress reports and their corrections (policy R6)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import bindparam, exists, select, text, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, raiseload

from services.registry.access import require_read, require_write
from services.registry.config import registry_settings
from services.registry.models import MissingReport, ProgressReport, Project, pipeline
from services.registry.schemas_progress import CorrectionIn, ProgressIn, ProgressOut
from shared import contracts
from shared.clock import today
from shared.errors import Conflict, InvalidInput, NotFound
from shared.event_tables import audit_row, event_row
from shared.identity import Principal
from shared.money import money_str
from shared.months import last_day, month_of, previous_month


def deadline(month: str) -> date:
    """The report for ``month`` is due by the configured day of the following month."""
    end = last_day(month)
    nxt = date(end.year + (end.month == 12), end.month % 12 + 1, 1)
    return nxt.replace(day=registry_settings().report_deadline_day)


def _bad(detail: str, code: str, field: str) -> InvalidInput:
    return InvalidInput(detail, code=code, fields=[{"field": field, "message": detail}])


# Statements built once (issue 15: building and cache-keying them cost more client CPU per
# report than running them). A report locks its project (R11 targets loaded with it; the
# memberships are not needed and may not be touched) and reads the current reports around
# its month — the one before, the month itself, the one after — in one round trip each.
# with it, whether the month is flagged missing (R6) and still open: most reports are not,
# and then the UPDATE that resolves the flag is not sent
_MISSING_OPEN = exists().where(
    MissingReport.project_id == Project.id,
    MissingReport.month == bindparam("month"),
    MissingReport.resolved_on.is_(None),
)
_LOCKED_PROJECT = (
    select(Project, _MISSING_OPEN.label("missing_open"))
    .where(Project.id == bindparam("project_id"))
    .options(raiseload(Project.memberships), joinedload(Project.targets))
    .with_for_update(of=Project)
)
_CURRENT = select(ProgressReport).where(
    ProgressReport.project_id == bindparam("project_id"), ProgressReport.current.is_(True)
)
_AROUND = select(ProgressReport).from_statement(
    union_all(
        _CURRENT.where(ProgressReport.month < bindparam("month"))
        .order_by(ProgressReport.month.desc())
        .limit(1),
        _CURRENT.where(ProgressReport.month == bindparam("month")),
        _CURRENT.where(ProgressReport.month > bindparam("month")).order_by(ProgressReport.month).limit(1),
    )
)


async def _locked_project(
    session: AsyncSession, principal: Principal, project_id: uuid.UUID, month: str
) -> tuple[Project, bool]:
    """The project, locked, and whether ``month`` is flagged missing and still open."""
    result = await session.execute(_LOCKED_PROJECT, {"project_id": project_id, "month": month})
    row = result.unique().one_or_none()
    return require_read(principal, row[0] if row else None, project_id), bool(row and row[1])


async def _around(session: AsyncSession, project_id: uuid.UUID, month: str):
    """The current reports before, of and after ``month`` (each or None)."""
    rows = (await session.scalars(_AROUND, {"project_id": project_id, "month": month})).all()
    prev = next((r for r in rows if r.month < month), None)
    same = next((r for r in rows if r.month == month), None)
    nxt = next((r for r in rows if r.month > month), None)
    return prev, same, nxt


def _check(project: Project, data: ProgressIn | CorrectionIn, month: str, prev, nxt) -> None:
    """Cumulative investment never falls, matches the month's amount, stays within the total."""
    cum, inv = data.cumulative_investment, data.investment_month
    if month > month_of(today()):
        raise _bad(f"不能填报未来月份 {month}", "progress.month_future", "month")
    if cum < inv:
        raise _bad(
            "累计完成投资不能小于本月完成投资", "progress.cumulative_below_month", "cumulative_investment"
        )
    if prev is not None and cum < prev.cumulative_investment:
        raise _bad(
            f"累计完成投资不能减少：{prev.month} 已报 {prev.cumulative_investment} 万元",
            "progress.cumulative_decreased",
            "cumulative_investment",
        )
    if prev is not None and prev.month == previous_month(month) and prev.cumulative_investment + inv != cum:
        raise _bad(
            f"累计完成投资应为上月累计 {prev.cumulative_investment} 加本月 {inv} 万元",
            "progress.cumulative_mismatch",
            "cumulative_investment",
        )
    if nxt is not None and cum > nxt.cumulative_investment:
        raise _bad(
            f"累计完成投资不能超过其后 {nxt.month} 已报的 {nxt.cumulative_investment} 万元",
            "progress.cumulative_after_later",
            "cumulative_investment",
        )
    if prev is not None and data.progress_pct < prev.progress_pct:
        raise _bad(
            f"形象进度不能倒退：{prev.month} 已报 {prev.progress_pct}%",
            "progress.pct_decreased",
            "progress_pct",
        )
    if cum > project.total_investment and not data.exceeds_total_confirmed:
        raise _bad(
            f"累计完成投资超过总投资 {project.total_investment} 万元：如属实请确认"
            "（exceeds_total_confirmed=true）",
            "progress.exceeds_total",
            "cumulative_investment",
        )


def report_payload(project: Project, r: ProgressReport) -> dict[str, Any]:
    return {
        "project_id": project.id,
        "project_code": project.project_code,
        "unit_id": project.unit_id,
        "month": r.month,
        "investment_month": money_str(r.investment_month),
        "cumulative_investment": money_str(r.cumulative_investment),
        "progress_pct": format(r.progress_pct, "f"),
        "reported_at": r.reported_at,
        "on_time": r.on_time,
        "version": r.version,
    }


async def _after_report(
    session: AsyncSession, project: Project, r: ProgressReport, missing_open: bool
) -> None:
    if project.last_report_month is None or r.month >= project.last_report_month:
        project.last_report_month = r.month
        project.last_progress_pct = r.progress_pct
        project.last_cumulative_investment = r.cumulative_investment
    for t in project.targets:  # policy R11: a progress target is met in the month reached
        if (
            t.kind == "progress"
            and t.met_on is None
            and t.threshold_pct is not None
            and r.progress_pct >= t.threshold_pct
        ):
            t.met_on = last_day(r.month)
    if missing_open:
        await session.execute(
            update(MissingReport)
            .where(
                MissingReport.project_id == project.id,
                MissingReport.month == r.month,
                MissingReport.resolved_on.is_(None),
            )
            .values(resolved_on=today())
        )


async def report_progress(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID, data: ProgressIn
) -> ProgressReport:
    project, missing_open = await _locked_project(session, principal, project_id, data.month)
    require_write(principal, project)
    prev, existing, nxt = await _around(session, project.id, data.month)
    if existing is not None:
        raise Conflict(
            f"{data.month} 月报已报送；如需修改请提交更正",
            code="progress.duplicate_month",
            report_id=str(existing.id),
            correction_path=f"/api/v1/projects/{project.id}/progress/{data.month}",
        )
    _check(project, data, data.month, prev, nxt)
    r = ProgressReport(
        id=uuid.uuid4(),
        project_id=project.id,
        month=data.month,
        version=1,
        current=True,
        investment_month=data.investment_month,
        cumulative_investment=data.cumulative_investment,
        exceeds_total=data.cumulative_investment > project.total_investment,
        progress_pct=data.progress_pct,
        milestone=data.milestone,
        problems=data.problems,
        reporter=principal.subject,
        reporter_name=principal.name,
        on_time=today() <= deadline(data.month),
    )
    session.add(r)
    await session.flush()
    await _after_report(session, project, r, missing_open)
    out = ProgressOut.model_validate(r, from_attributes=True).model_dump(mode="json")
    # the audit row and the event in one statement (issue 15: one round trip fewer)
    await pipeline.write(
        session,
        audits=[
            audit_row(principal, entity="project", entity_id=project.id, action="progress_report", after=out)
        ],
        events=[
            event_row(
                contracts.build("project.progress_reported", report_payload(project, r)), key=str(project.id)
            )
        ],
    )
    return r


async def correct_progress(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID, month: str, data: CorrectionIn
) -> ProgressReport:
    """A correction is a new audited version; the old one stays, no longer current."""
    project, missing_open = await _locked_project(session, principal, project_id, month)
    require_write(principal, project)
    prev, old, nxt = await _around(session, project.id, month)
    if old is None:
        raise NotFound(f"{month} 尚无月报，无从更正", code="progress.not_found")
    _check(project, data, month, prev, nxt)
    old.current = False
    await session.flush()
    r = ProgressReport(
        id=uuid.uuid4(),
        project_id=project.id,
        month=month,
        version=old.version + 1,
        current=True,
        investment_month=data.investment_month,
        cumulative_investment=data.cumulative_investment,
        exceeds_total=data.cumulative_investment > project.total_investment,
        progress_pct=data.progress_pct,
        milestone=data.milestone,
        problems=data.problems,
        reporter=principal.subject,
        reporter_name=principal.name,
        correction_reason=data.reason,
        on_time=old.on_time,
    )
    session.add(r)
    await session.flush()
    if project.last_report_month == month:
        project.last_report_month = None  # recomputed below from the new current version
    await _after_report(session, project, r, missing_open)
    before = ProgressOut.model_validate(old, from_attributes=True).model_dump(mode="json")
    after = ProgressOut.model_validate(r, from_attributes=True).model_dump(mode="json")
    await pipeline.write(
        session,
        audits=[
            audit_row(
                principal,
                entity="project",
                entity_id=project.id,
                action="progress_correct",
                before=before,
                after=after,
                reason=data.reason,
            )
        ],
        events=[
            event_row(
                contracts.build("project.progress_reported", report_payload(project, r)), key=str(project.id)
            )
        ],
    )
    return r


async def list_progress(session: AsyncSession, project_id: uuid.UUID) -> list[ProgressReport]:
    rows = await session.scalars(
        select(ProgressReport)
        .where(ProgressReport.project_id == project_id)
        .order_by(ProgressReport.month.desc(), ProgressReport.version.desc())
    )
    return list(rows)


def last_closed_month(on: date) -> str:
    """The latest month whose report deadline has passed on ``on`` (policy R6)."""
    month = previous_month(month_of(on))
    return month if on > deadline(month) else previous_month(month)


# policy R6: every month a project spent (part of) in a library, up to the last month whose
# deadline has passed, without a current report — not only last month's (an imported or
# back-dated project, or a day the job did not run, hides no gap)
MISSING_SQL = text("""
SELECT DISTINCT m.project_id, to_char(g.month, 'YYYY-MM') AS month
FROM registry.memberships m
CROSS JOIN LATERAL generate_series(
    date_trunc('month', m.since),
    date_trunc('month', LEAST(coalesce(m.until, :last_end), :last_end)),
    interval '1 month') AS g(month)
WHERE m.since <= :last_end AND (CAST(:project_id AS uuid) IS NULL OR m.project_id = :project_id)
  AND NOT EXISTS (SELECT 1 FROM registry.progress_reports r
                  WHERE r.project_id = m.project_id AND r.current
                    AND r.month = to_char(g.month, 'YYYY-MM'))
ORDER BY 1, 2""")


async def missing(
    session: AsyncSession, on: date, project_id: uuid.UUID | None = None
) -> list[tuple[uuid.UUID, str]]:
    last = last_closed_month(on)
    rows = await session.execute(MISSING_SQL, {"last_end": last_day(last), "project_id": project_id})
    return [(r.project_id, r.month) for r in rows]


async def missing_months(session: AsyncSession, project_id: uuid.UUID, on: date | None = None) -> list[str]:
    """policy R6, computed on read: every missing month since the project entered a library."""
    return [month for _, month in await missing(session, on or today(), project_id)]
