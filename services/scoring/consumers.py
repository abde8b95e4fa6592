"""What the scoring service does with other services' events (each applied once, via the inbox).

Every project.*, approval.* and issue.* event (contracts.md) lands in a fact table; the
monthly run (facts.py) aggregates those tables in SQL. Events may arrive out of order:
project facts are guarded by the project's `version`, issue facts by `occurred_at`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.scoring.dates import month_bounds, month_of, parse_business_date
from services.scoring.models import ApprovalFact, IssueFact, MatterFact, ProgressFact, ProjectFact
from shared import clock

# R8 lifecycle 签约→落地→开工→进度→竣工→达效: which stages mean "started" and "completed"
START_STAGES = frozenset({"started", "under_construction", "construction", "in_progress"})
DONE_STAGES = frozenset({"completed", "in_production", "effective", "producing"})
# R30 四比投产: in production / effective (达效), not merely completed (竣工)
EFFECT_STAGES = frozenset({"in_production", "effective", "producing"})

Event = dict[str, Any]


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _money(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def _timestamp(value: Any) -> datetime | None:
    try:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None
    return dt.replace(tzinfo=UTC) if dt is not None and dt.tzinfo is None else dt


def _event_date(event: Event) -> date:
    return parse_business_date(event.get("created_at")) or clock.today()


def _reserve_since(libraries: Any) -> date | None:
    dates = [
        parse_business_date(lib.get("since"))
        for lib in libraries or []
        if isinstance(lib, dict) and lib.get("library") == "reserve"
    ]
    dates = [d for d in dates if d]
    return min(dates) if dates else None


def _stage_date(p: dict[str, Any], *stages: str) -> date | None:
    """policy R27: the earliest recorded date of any of ``stages`` (registry stage_dates)."""
    dates = p.get("stage_dates") or {}
    got = [parse_business_date(dates.get(s)) for s in stages if dates.get(s)]
    return min((d for d in got if d), default=None)


def _recorded_dates(p: dict[str, Any], *, created: bool, entered_on: date | None) -> dict[str, Any]:
    """policy R27/R30: 签约, 竣工, 投产 from the recorded stage dates, however the project
    arrived (registered, imported or moved on); a start the registry only inferred from a
    later stage's date on arrival is not a start."""
    out: dict[str, Any] = {}
    signed = _stage_date(p, "signed")
    if signed is None and created and p.get("stage") == "signed" and "stage_dates" not in p:
        signed = entered_on  # an announcement without stage dates: it arrived signed
    if signed is not None:
        out["signed_on"] = signed
    for column, stages in (("completed_on", DONE_STAGES), ("effective_on", EFFECT_STAGES)):
        d = _stage_date(p, *sorted(stages))
        if d is not None:
            out[column] = d
    stage, start = p.get("stage"), parse_business_date(p.get("actual_start"))
    if created and start is not None and stage not in (None, "signed", "landed", "started"):
        # arrived past 开工 with the arrival stage's date as its start: the registry's guess
        out["start_inferred"] = _stage_date(p, "started") is None and start == _stage_date(p, stage)
    return out


async def _upsert_project(session: AsyncSession, event: Event, *, created: bool) -> None:
    p = event["payload"]
    values: dict[str, Any] = {
        "project_id": uuid.UUID(str(p["id"])),
        "project_code": p.get("project_code") or "",
        "unit_id": p.get("unit_id") or "",
        "category": p.get("category") or "",
        "total_investment": _money(p.get("total_investment")),
        "name": p.get("name"),
        "stage": p.get("stage"),
        "reserve_since": _reserve_since(p.get("libraries")),
        "planned_start": parse_business_date(p.get("planned_start")),
        "actual_start": parse_business_date(p.get("actual_start")),
        "version": int(p.get("version") or 0),
    }
    if created:
        values["created_event_id"] = uuid.UUID(event["id"])
        values["entered_on"] = parse_business_date(p.get("created_at")) or _event_date(event)
    values.update(_recorded_dates(p, created=created, entered_on=values.get("entered_on")))
    changing = {k: v for k, v in values.items()
                if k not in ("project_id", "created_event_id", "entered_on")}
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


async def on_project_updated(session: AsyncSession, event: Event) -> None:
    await _upsert_project(session, event, created=False)


async def on_stage_changed(session: AsyncSession, event: Event) -> None:
    await _upsert_project(session, event, created=False)
    p = event["payload"]
    on = parse_business_date(p.get("on")) or _event_date(event)
    to_stage = str(p.get("to_stage") or "")
    pid = uuid.UUID(str(p["id"]))
    if to_stage in START_STAGES:
        await session.execute(
            update(ProjectFact)
            .where(ProjectFact.project_id == pid, ProjectFact.actual_start.is_(None))
            .values(actual_start=on)
        )
    for column, stages in ((ProjectFact.completed_on, DONE_STAGES),
                           (ProjectFact.effective_on, EFFECT_STAGES)):
        if to_stage in stages:
            await session.execute(
                update(ProjectFact)
                .where(ProjectFact.project_id == pid, column.is_(None))
                .values({column.key: on})
            )


async def on_progress_reported(session: AsyncSession, event: Event) -> None:
    p = event["payload"]
    values = {
        "project_id": uuid.UUID(str(p["project_id"])),
        "month": p["month"],
        "unit_id": p.get("unit_id") or "",
        "reported": True,
        "on_time": bool(p.get("on_time")),
        "investment_month": _money(p.get("investment_month")),
        "cumulative_investment": _money(p.get("cumulative_investment")),
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
    p = event["payload"]
    await session.execute(
        insert(ProgressFact)
        .values(
            project_id=uuid.UUID(str(p["project_id"])),
            month=p["month"],
            unit_id=p.get("unit_id") or "",
            reported=False,
            on_time=False,
            investment_month=Decimal(0),
        )
        .on_conflict_do_nothing()
    )
    # the matter is overdue at the end of the month the report was for
    await _matter(
        session,
        event["type"],
        f"{p['project_id']}:{p['month']}",
        p.get("unit_id"),
        month_bounds(p["month"])[1],
        overdue=True,
    )


async def on_revocation(session: AsyncSession, event: Event) -> None:
    p = event["payload"]
    on = parse_business_date(p.get("due_on")) or _event_date(event)
    overdue = event["type"] != "project.revocation_warning"
    await _matter(session, event["type"], str(p["project_id"]), p.get("unit_id"), on, overdue=overdue)
    if event["type"] == "project.revoked":
        await session.execute(
            update(ProjectFact)
            .where(ProjectFact.project_id == _uuid(p["project_id"]))
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
    case_id = _uuid(p.get("case_id"))
    if case_id is None:
        return
    base = {k: v for k, v in {"project_id": _uuid(p.get("project_id")), "kind": p.get("kind")}.items() if v}
    if kind == "approval.case_opened":
        await _upsert_case(session, case_id, **base, unit_id=p.get("unit_id"), opened_on=_event_date(event))
    elif kind == "approval.completed":
        await _upsert_case(
            session,
            case_id,
            **base,
            completed_on=parse_business_date(p.get("completed_on")) or _event_date(event),
            on_time=bool(p.get("on_time")),
            agency_unit_ids=[str(u) for u in p.get("agency_unit_ids") or []],
        )
    elif kind == "approval.rejected":
        await _upsert_case(session, case_id, **base, rejected=True)
    elif kind == "approval.deadline_changed":
        await _upsert_case(session, case_id, **base, due_date=parse_business_date(p.get("new_due_date")))
    elif kind in ("approval.warning", "approval.overdue"):
        await _upsert_case(session, case_id, **base)
        since = parse_business_date(p.get("overdue_since")) if kind == "approval.overdue" else None
        on = since or _event_date(event)
        await _matter(
            session,
            kind,
            f"{case_id}:{p.get('step_code') or 'chain'}:{p.get('due_date')}",
            p.get("agency_unit_id"),
            on,
            overdue=kind == "approval.overdue",
        )
    elif kind == "approval.missing_items_overdue":
        await _upsert_case(session, case_id, **base)
        unit_id = await session.scalar(select(ApprovalFact.unit_id).where(ApprovalFact.case_id == case_id))
        on = parse_business_date(p.get("due_date")) or _event_date(event)
        await _matter(session, kind, f"{case_id}:{p.get('due_date')}", unit_id, on, overdue=True)
    else:  # approval.step_completed and any later addition: the case is known
        await _upsert_case(session, case_id, **base)


async def on_issue(session: AsyncSession, event: Event) -> None:
    p, kind = event["payload"], event["type"]
    issue_id = _uuid(p.get("issue_id"))
    if issue_id is None:
        return
    at = parse_business_date(p.get("occurred_at")) or _event_date(event)
    values: dict[str, Any] = {
        "project_id": _uuid(p.get("project_id")),
        "unit_id": p.get("unit_id"),
        "kind": p.get("kind"),
        "source": p.get("source"),
        "step": p.get("step"),
        "deadline": parse_business_date(p.get("deadline")),
        "overdue": bool(p.get("overdue")),
        "redo_count": int(p.get("redo_count") or 0),
        "satisfied": p.get("satisfied"),
        "last_event_at": _timestamp(p.get("occurred_at") or event.get("created_at")),
    }
    if kind == "issue.closed":
        values["closed_on"] = at
        values["closed_on_time"] = not values["overdue"] and (
            values["deadline"] is None or at <= values["deadline"]
        )
    elif kind == "issue.reopened":
        values["closed_on"] = values["closed_on_time"] = None
    stmt = insert(IssueFact).values(issue_id=issue_id, **values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[IssueFact.issue_id],
            set_={k: stmt.excluded[k] for k in values},
            where=IssueFact.last_event_at.is_(None)
            | (IssueFact.last_event_at <= stmt.excluded.last_event_at),
        )
    )
    if kind == "issue.overdue":
        await _matter(session, kind, f"{issue_id}:{values['deadline']}", values["unit_id"], at, overdue=True)


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
