"""What the scoring service does with other services' events (each applied once, via the inbox).

Every project.*, approval.* and issue.* event (contracts.md) lands in a fact table; the
monthly run (facts.py) aggregates those tables in SQL. Events may arrive out of order:
project facts are guarded by the project's `version`, issue facts by `occurred_at`.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.scoring.dates import parse_business_date
from services.scoring.models import ApprovalFact, IssueFact, MatterFact, ProgressFact, ProjectFact
from shared import clock
from shared.contracts import approvals as ap
from shared.contracts import issues as iss
from shared.contracts import registry as reg
from shared.months import month_bounds, month_of

# R8 lifecycle 签约→落地→开工→在建→竣工→达效, in the registry's own stage names (the
# contract's ProjectStage): which stages mean "started" and "completed"
START_STAGES = frozenset({"started", "under_construction"})
DONE_STAGES = frozenset({"completed", "effective"})
# R30 四比投产: effective (达效), not merely completed (竣工)
EFFECT_STAGES = frozenset({"effective"})

# the envelope (id, type, source, created_at …) with ``payload`` parsed as its contract
Event = dict[str, Any]


def _event_date(event: Event) -> date:
    return parse_business_date(event.get("created_at")) or clock.today()


def _reserve_since(libraries: list[reg.Library]) -> date | None:
    return min((lib.since for lib in libraries if lib.library == "reserve" and lib.since), default=None)


def _stage_date(p: reg.ProjectSnapshotV1, *stages: str) -> date | None:
    """policy R27: the earliest recorded date of any of ``stages`` (registry stage_dates)."""
    return min((d for s, d in p.stage_dates.items() if s in stages), default=None)


def _recorded_dates(p: reg.ProjectSnapshotV1, *, created: bool, entered_on: date | None) -> dict[str, Any]:
    """policy R27/R30: 签约, 竣工, 投产 from the recorded stage dates, however the project
    arrived (registered, imported or moved on); a start the registry only inferred from a
    later stage's date on arrival is not a start."""
    out: dict[str, Any] = {}
    signed = _stage_date(p, "signed")
    if signed is None and created and p.stage == "signed":
        signed = entered_on  # announced signed without a recorded date: it arrived signed
    if signed is not None:
        out["signed_on"] = signed
    for column, stages in (("completed_on", DONE_STAGES), ("effective_on", EFFECT_STAGES)):
        d = _stage_date(p, *stages)
        if d is not None:
            out[column] = d
    if created and p.actual_start is not None and p.stage not in ("signed", "landed", "started"):
        # arrived past 开工 with the arrival stage's date as its start: the registry's guess
        out["start_inferred"] = _stage_date(p, "started") is None and p.actual_start == _stage_date(
            p, p.stage
        )
    return out


def _project_values(event: Event, *, created: bool) -> dict[str, Any]:
    p: reg.ProjectSnapshotV1 = event["payload"]
    values: dict[str, Any] = {
        "project_id": p.id,
        "project_code": p.project_code,
        "unit_id": p.unit_id,
        "category": p.category,
        "total_investment": p.total_investment,
        "name": p.name,
        "stage": p.stage,
        "reserve_since": _reserve_since(p.libraries),
        "planned_start": p.planned_start,
        "actual_start": p.actual_start,
        "version": p.version,
    }
    if created:
        values["created_event_id"] = uuid.UUID(event["id"])
        values["entered_on"] = clock.business_date(p.created_at)
    values.update(_recorded_dates(p, created=created, entered_on=values.get("entered_on")))
    return values


async def _upsert_project(session: AsyncSession, event: Event, *, created: bool) -> None:
    values = _project_values(event, created=created)
    changing = {k: v for k, v in values.items() if k not in ("project_id", "created_event_id", "entered_on")}
    stmt = insert(ProjectFact).values(**values)
    if created:
        # the creation facts are always taken; the rest only if not older than what we hold
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[ProjectFact.project_id],
                set_={
                    "created_event_id": stmt.excluded.created_event_id,
                    "entered_on": stmt.excluded.entered_on,
                },
            )
        )
    else:
        await session.execute(stmt.on_conflict_do_nothing())
    await session.execute(
        update(ProjectFact)
        .where(ProjectFact.project_id == values["project_id"], ProjectFact.version <= values["version"])
        .values(**changing)
    )


async def on_project_created(session: AsyncSession, event: Event) -> None:
    await _upsert_project(session, event, created=True)


# the recorded-date columns a creation may leave unset (the column's own default then)
_UNSET = {"signed_on": None, "completed_on": None, "effective_on": None, "start_inferred": False}


async def on_projects_created(session: AsyncSession, events: list[Event]) -> None:
    """project.created for a batch (shared.consume): one INSERT for the projects scoring has
    not seen — what the one-by-one path would write for them; a project already there (a
    later event arrived first) takes that path, in order."""
    rows = [_UNSET | _project_values(e, created=True) for e in events]
    # executemany form ("insertmanyvalues": one statement per 1,000 rows, compiled once)
    inserted = set(
        (
            await session.scalars(
                insert(ProjectFact).on_conflict_do_nothing().returning(ProjectFact.project_id), rows
            )
        ).all()
    )
    for event, row in zip(events, rows, strict=True):
        if row["project_id"] in inserted:
            inserted.discard(row["project_id"])  # a second creation of it goes one by one
        else:
            await _upsert_project(session, event, created=True)


on_project_created.many = on_projects_created  # type: ignore[attr-defined]


async def on_project_updated(session: AsyncSession, event: Event) -> None:
    await _upsert_project(session, event, created=False)


async def on_stage_changed(session: AsyncSession, event: Event) -> None:
    await _upsert_project(session, event, created=False)
    p: reg.ProjectStageChangedV1 = event["payload"]
    if p.to_stage in START_STAGES:
        await session.execute(
            update(ProjectFact)
            .where(ProjectFact.project_id == p.id, ProjectFact.actual_start.is_(None))
            .values(actual_start=p.on)
        )
    for column, stages in (
        (ProjectFact.completed_on, DONE_STAGES),
        (ProjectFact.effective_on, EFFECT_STAGES),
    ):
        if p.to_stage in stages:
            await session.execute(
                update(ProjectFact)
                .where(ProjectFact.project_id == p.id, column.is_(None))
                .values({column.key: p.on})
            )


async def on_progress_reported(session: AsyncSession, event: Event) -> None:
    p: reg.ProgressReportedV1 = event["payload"]
    values = {
        "project_id": p.project_id,
        "month": p.month,
        "unit_id": p.unit_id,
        "reported": True,
        "on_time": p.on_time,
        "investment_month": p.investment_month,
        "cumulative_investment": p.cumulative_investment,
    }
    stmt = insert(ProgressFact).values(**values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[ProgressFact.project_id, ProgressFact.month],
            set_={k: stmt.excluded[k] for k in values if k not in ("project_id", "month")},
        )
    )


async def _matter(
    session: AsyncSession, kind: str, ref: str, unit_id: str | None, on: date, *, overdue: bool
) -> None:
    await session.execute(
        insert(MatterFact)
        .values(
            kind=kind,
            ref=ref[:120],
            unit_id=unit_id,
            month=month_of(on),
            on_date=on,
            overdue=overdue,
        )
        .on_conflict_do_nothing()
    )


async def on_report_missing(session: AsyncSession, event: Event) -> None:
    p: reg.ReportMissingV1 = event["payload"]
    await session.execute(
        insert(ProgressFact)
        .values(
            project_id=p.project_id,
            month=p.month,
            unit_id=p.unit_id,
            reported=False,
            on_time=False,
            investment_month=Decimal(0),  # no report: nothing invested that month on record
        )
        .on_conflict_do_nothing()
    )
    # the matter is overdue at the end of the month the report was for
    await _matter(
        session, event["type"], f"{p.project_id}:{p.month}", p.unit_id, month_bounds(p.month)[1], overdue=True
    )


async def on_revocation(session: AsyncSession, event: Event) -> None:
    p: reg.RevocationWarningV1 | reg.RevocationDueV1 | reg.RevokedV1 = event["payload"]
    on = p.due_on or _event_date(event)
    overdue = event["type"] != "project.revocation_warning"
    await _matter(session, event["type"], str(p.project_id), p.unit_id, on, overdue=overdue)
    if isinstance(p, reg.RevokedV1):
        await session.execute(
            update(ProjectFact)
            .where(ProjectFact.project_id == p.project_id)
            .values(stage="revoked", revoked_on=_event_date(event))
        )


async def _upsert_case(session: AsyncSession, case_id: uuid.UUID, **values: Any) -> None:
    stmt = insert(ApprovalFact).values(case_id=case_id, **values)
    set_ = {k: stmt.excluded[k] for k in values}
    if set_:
        await session.execute(stmt.on_conflict_do_update(index_elements=[ApprovalFact.case_id], set_=set_))
    else:
        await session.execute(stmt.on_conflict_do_nothing())


async def on_approval(session: AsyncSession, event: Event) -> None:
    p, kind = event["payload"], event["type"]
    case_id = p.case_id
    base = {"project_id": p.project_id, "kind": p.kind}
    if isinstance(p, ap.CaseOpenedV1):
        await _upsert_case(session, case_id, **base, unit_id=p.unit_id, opened_on=_event_date(event))
    elif isinstance(p, ap.CompletedV1):
        await _upsert_case(
            session,
            case_id,
            **base,
            completed_on=p.completed_on,
            on_time=p.on_time,
            agency_unit_ids=list(p.agency_unit_ids),
        )
    elif isinstance(p, ap.RejectedV1):
        await _upsert_case(session, case_id, **base, rejected=True)
    elif isinstance(p, ap.DeadlineChangedV1):
        await _upsert_case(session, case_id, **base, due_date=p.new_due_date)
    elif isinstance(p, ap.WarningV1 | ap.OverdueV1):
        await _upsert_case(session, case_id, **base)
        overdue = isinstance(p, ap.OverdueV1)
        on = p.overdue_since if isinstance(p, ap.OverdueV1) else _event_date(event)
        await _matter(
            session,
            kind,
            f"{case_id}:{p.step_code or 'chain'}:{p.due_date.isoformat()}",
            p.agency_unit_id,
            on,
            overdue=overdue,
        )
    elif isinstance(p, ap.MissingItemsOverdueV1):
        await _upsert_case(session, case_id, **base)
        unit_id = await session.scalar(select(ApprovalFact.unit_id).where(ApprovalFact.case_id == case_id))
        await _matter(session, kind, f"{case_id}:{p.due_date.isoformat()}", unit_id, p.due_date, overdue=True)
    else:  # approval.step_completed: the case is known
        await _upsert_case(session, case_id, **base)


async def on_issue(session: AsyncSession, event: Event) -> None:
    p: iss._Issue = event["payload"]
    at = clock.business_date(p.occurred_at)
    values: dict[str, Any] = {
        "project_id": p.project_id,
        "unit_id": p.unit_id,
        "kind": p.kind,
        "source": p.source,
        "step": p.step,
        "deadline": p.deadline,
        "overdue": p.overdue,
        "redo_count": p.redo_count,
        "satisfied": p.satisfied,
        "last_event_at": p.occurred_at,
    }
    if isinstance(p, iss.IssueClosedV1):
        values["closed_on"] = at
        values["closed_on_time"] = not p.overdue and (p.deadline is None or at <= p.deadline)
    elif isinstance(p, iss.IssueReopenedV1):
        values["closed_on"] = values["closed_on_time"] = None
    stmt = insert(IssueFact).values(issue_id=p.issue_id, **values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[IssueFact.issue_id],
            set_={k: stmt.excluded[k] for k in values},
            where=IssueFact.last_event_at.is_(None)
            | (IssueFact.last_event_at <= stmt.excluded.last_event_at),
        )
    )
    if isinstance(p, iss.IssueOverdueV1):
        await _matter(session, event["type"], f"{p.issue_id}:{p.deadline}", p.unit_id, at, overdue=True)


HANDLERS = {
    "project.created": on_project_created,
    "project.updated": on_project_updated,
    "project.stage_changed": on_stage_changed,
    "project.progress_reported": on_progress_reported,
    "project.report_missing": on_report_missing,
    "project.revocation_warning": on_revocation,
    "project.revocation_due": on_revocation,
    "project.revoked": on_revocation,
    **{
        t: on_approval
        for t in (
            "approval.case_opened",
            "approval.step_completed",
            "approval.warning",
            "approval.overdue",
            "approval.completed",
            "approval.rejected",
            "approval.deadline_changed",
            "approval.missing_items_overdue",
        )
    },
    **{
        t: on_issue
        for t in (
            "issue.created",
            "issue.assigned",
            "issue.overdue",
            "issue.closure_requested",
            "issue.closed",
            "issue.reopened",
        )
    },
}
