"""Monthly progress reports and their corrections (policy R6)."""

from __future__ import annotations

import uuid
from datetime import date
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import progress_sql
from services.registry.access import require_read, require_write
from services.registry.config import registry_settings
from services.registry.models import ProgressReport, pipeline
from services.registry.schemas_progress import CorrectionIn, ProgressIn, ProgressOut
from shared import contracts
from shared.clock import now, today
from shared.db import WriteConnection
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


def _around(row: Any, prefix: str) -> SimpleNamespace | None:
    """The current report before (``prev``) or after (``next``) the month from ``LOAD``'s row."""
    if getattr(row, f"{prefix}_id") is None:
        return None
    return SimpleNamespace(**{c: getattr(row, f"{prefix}_{c}") for c in progress_sql.AROUND_COLUMNS})


def _check(project: Any, data: ProgressIn | CorrectionIn, month: str, prev, nxt) -> None:
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


def report_payload(project: Any, r: Any) -> dict[str, Any]:
    """The event of a report (``r``: the ORM row or its ``ProgressOut``)."""
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


def _retired(row: Any) -> ProgressOut:
    """The month's current version from ``LOAD``'s row, as the correction leaves it (no longer
    current: the audit row's ``before`` has always shown it so)."""
    old = {c: getattr(row, f"same_{c}") for c in progress_sql.REPORT_COLUMNS}
    return ProgressOut.model_validate(old | {"current": False})


async def _save(
    conn: WriteConnection,
    principal: Principal,
    project_id: uuid.UUID,
    month: str,
    data: ProgressIn | CorrectionIn,
    *,
    correction: bool,
) -> ProgressOut:
    """A report (or a correction) in two statements: ``progress_sql.LOAD``, the checks,
    ``progress_sql.WRITE``. LOAD again only when it waited for the project's lock and so
    missed the report the other request made (``progress_sql``): then it holds the lock."""
    for _ in range(2):
        row = await progress_sql.load(conn, project_id, month)
        project = require_read(principal, row, project_id)
        require_write(principal, project)
        if correction and row.same_id is None:
            raise NotFound(f"{month} 尚无月报，无从更正", code="progress.not_found")
        if not correction and row.same_id is not None:
            raise Conflict(
                f"{month} 月报已报送；如需修改请提交更正",
                code="progress.duplicate_month",
                report_id=str(row.same_id),
                correction_path=f"/api/v1/projects/{project.id}/progress/{month}",
            )
        _check(project, data, month, _around(row, "prev"), _around(row, "next"))
        before = _retired(row) if correction else None
        at, on = now(), today()
        out = ProgressOut(
            id=uuid.uuid4(),
            project_id=project.id,
            month=month,
            version=before.version + 1 if before else 1,
            current=True,
            investment_month=data.investment_month,
            cumulative_investment=data.cumulative_investment,
            exceeds_total=data.cumulative_investment > project.total_investment,
            progress_pct=data.progress_pct,
            milestone=data.milestone,
            problems=data.problems,
            reporter=principal.subject,
            reporter_name=principal.name,
            correction_reason=data.reason if isinstance(data, CorrectionIn) else None,
            on_time=before.on_time if before else on <= deadline(month),
            reported_at=at,
        )
        last = (project.last_report_month, project.last_progress_pct, project.last_cumulative_investment)
        audit = audit_row(
            principal,
            entity="project",
            entity_id=project.id,
            action="progress_correct" if before else "progress_report",
            before=before.model_dump(mode="json") if before else None,
            after=out.model_dump(mode="json"),
            reason=data.reason if isinstance(data, CorrectionIn) else None,
            now=at,
        )
        event = event_row(
            contracts.build("project.progress_reported", report_payload(project, out)),
            key=str(project.id),
            now=at,
        )
        params = {
            **{c: getattr(out, c) for c in progress_sql.REPORT_COLUMNS if c != "current"},
            "now": at,
            "today": on,
            "month_end": last_day(month),
            "correction": correction,
            "prev_id": row.prev_id,
            "same_id": row.same_id,
            "next_id": row.next_id,
            # the latest month's figures go on the project; the ORM updated (and versioned)
            # the row only when they differ from what it holds
            "latest": (last[0] is None or month >= last[0])
            and last != (month, data.progress_pct, data.cumulative_investment),
            **pipeline.writer.row_params(event, audit),
        }
        if await progress_sql.write(conn, params) is not None:
            return out
    raise Conflict("该项目月报正被同时修改，请重试", code="progress.concurrent_change")


async def report_progress(
    conn: WriteConnection, *, principal: Principal, project_id: uuid.UUID, data: ProgressIn
) -> ProgressOut:
    return await _save(conn, principal, project_id, data.month, data, correction=False)


async def correct_progress(
    conn: WriteConnection, *, principal: Principal, project_id: uuid.UUID, month: str, data: CorrectionIn
) -> ProgressOut:
    """A correction is a new audited version; the old one stays, no longer current."""
    return await _save(conn, principal, project_id, month, data, correction=True)


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
