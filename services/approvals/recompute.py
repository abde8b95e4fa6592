"""Deriving a case's clock from its event log and the calendar, and storing the result.

``compute_clock`` is the pure part (``ApprovalClock.replay``); ``apply_clock`` writes the
derived columns, fires thresholds reached (events + audit, once) and sets the indexed
``next_threshold_at``; ``recompute_open_cases`` re-derives every open deadline after a
calendar change (R15), auditing each change and emitting ``approval.deadline_changed``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.approvals.clock import OPEN_PHASES, ApprovalClock, ClockResult, LogEvent
from services.approvals.kinds import spec_of
from services.approvals.models import ApprovalCase, CaseEvent, pipeline
from services.approvals.thresholds import audit_rows, event_rows, split_due, thresholds_of
from shared import clock, contracts
from shared.calendar import WorkingCalendar
from shared.event_tables import AuditRow, EventRow, audit_row, event_row
from shared.identity import Principal

LOG_COLUMNS = (
    CaseEvent.id,
    CaseEvent.event_id,
    CaseEvent.type,
    CaseEvent.occurred_at,
    CaseEvent.step_code,
    CaseEvent.reason,
    CaseEvent.evidence_ref,
)


def log_event(row: Any) -> LogEvent:
    return LogEvent(
        seq=row.id,
        event_id=row.event_id,
        type=row.type,
        on=clock.business_date(row.occurred_at),
        at=row.occurred_at,
        step_code=row.step_code,
        reason=row.reason,
        evidence_ref=row.evidence_ref,
    )


async def load_log(session: AsyncSession, case_id: uuid.UUID, *, with_hashes: bool = False):
    """The case's log in time order (and, if asked, event id → payload hash)."""
    rows = (
        await session.execute(
            select(*LOG_COLUMNS, CaseEvent.payload_hash)
            .where(CaseEvent.case_id == case_id)
            .order_by(CaseEvent.occurred_at, CaseEvent.id)
        )
    ).all()
    log = [log_event(r) for r in rows]
    if with_hashes:
        return log, {r.event_id: r.payload_hash for r in rows}
    return log


async def load_logs(session: AsyncSession, case_ids: list[uuid.UUID]) -> dict[uuid.UUID, list]:
    out: dict[uuid.UUID, list[LogEvent]] = {cid: [] for cid in case_ids}
    if not case_ids:
        return out
    rows = await session.execute(
        select(CaseEvent.case_id, *LOG_COLUMNS)
        .where(CaseEvent.case_id.in_(case_ids))
        .order_by(CaseEvent.occurred_at, CaseEvent.id)
    )
    for r in rows:
        out[r.case_id].append(log_event(r))
    return out


def compute_clock(
    case: ApprovalCase, log: list[LogEvent], cal: WorkingCalendar, as_of: date
) -> tuple[ClockResult, ApprovalClock]:
    approval_clock = ApprovalClock(spec_of(case), cal)
    return (approval_clock.replay(log, as_of, missing_items_due=case.missing_items_due), approval_clock)


def warn_levels(approval_clock: ApprovalClock) -> dict[str, Any]:
    k = approval_clock.kind
    return {
        "chain": approval_clock.warn_thresholds(k.total_limit_days),
        "step": {s.code: approval_clock.warn_thresholds(s.limit_days) for s in k.steps},
    }


def deadline_snapshot(case: ApprovalCase) -> dict[str, Any]:
    return {
        "state": case.state,
        "phase": case.phase,
        "current_step": case.current_step,
        "due_date": case.due_date,
        "step_due_date": case.step_due_date,
        "due_provisional": case.due_provisional,
    }


async def apply_clock(
    session: AsyncSession,
    case: ApprovalCase,
    result: ClockResult,
    approval_clock: ApprovalClock,
    *,
    now: datetime,
    principal: Principal,
) -> list[dict]:
    """Store the derived clock on the case, fire the thresholds reached by ``now`` and write
    their outbox events and audit rows."""
    due, events, audits = derive_clock(case, result, approval_clock, now=now, principal=principal)
    if due:
        await pipeline.write(session, events=events, audits=audits)
    return due


def derive_clock(
    case: Any,
    result: ClockResult,
    approval_clock: ApprovalClock,
    *,
    now: datetime,
    principal: Principal,
) -> tuple[list[dict], list[EventRow], list[AuditRow]]:
    """Set the derived clock on ``case`` (an ``ApprovalCase`` or the intake's plain case)
    and fire the thresholds reached by ``now``: (fired, their outbox rows, their audit rows)
    for the caller to write with its own statement."""
    case.phase, case.state, case.current_step = result.phase, result.state, result.current_step
    case.received_on, case.accepted_on = result.received_on, result.accepted_on
    case.completed_on = result.completed_on
    case.missing_items_supplied_on = result.missing_items_supplied_on
    case.due_date, case.due_provisional = result.chain.due_date, result.chain.provisional
    cur = next((s for s in result.steps if s.code == result.current_step), None)
    case.step_due_date = cur.due_date if cur else None
    if cur is not None and cur.provisional:
        case.due_provisional = True
    all_thresholds = thresholds_of(
        result,
        warn_at=warn_levels(approval_clock),
        missing_items=case.missing_items,
        missing_items_due=case.missing_items_due,
    )
    due, ahead = split_due(all_thresholds, case.fired, now)
    events: list[EventRow] = []
    audits: list[AuditRow] = []
    if due:
        before = case.state
        case.fired = [*case.fired, *(t["key"] for t in due)]
        if any(t["type"] == "missing_items_overdue" for t in due):
            case.missing_items_overdue = True
        events, audits = event_rows(case, due), audit_rows(case, principal, due, before, case.state)
    case.thresholds = ahead
    case.next_threshold_at = datetime.fromisoformat(ahead[0]["at"]) if ahead else None
    case.version += 1
    case.updated_at = now
    return due, events, audits


async def recompute_open_cases(
    session: AsyncSession,
    cal: WorkingCalendar,
    *,
    year: int,
    principal: Principal,
    reason: str,
    now: datetime | None = None,
) -> dict[str, int]:
    """Re-derive every open deadline that a change of ``year`` can move (R15)."""
    now = now or clock.now()
    as_of = clock.business_date(now)
    first = date(year, 1, 1)
    q = (
        select(ApprovalCase)
        .where(ApprovalCase.phase.in_(OPEN_PHASES))
        .where(
            or_(
                ApprovalCase.due_date.is_(None),
                ApprovalCase.due_date >= date(year - 1, 12, 1),
                ApprovalCase.step_due_date >= first,
            )
        )
        .order_by(ApprovalCase.id)
        .with_for_update()
    )
    checked = changed = 0
    cases = list((await session.scalars(q)).all())
    for start in range(0, len(cases), 500):
        batch = cases[start : start + 500]
        logs = await load_logs(session, [c.id for c in batch])
        # the batch's events and audit rows go in with one statement
        events: list[EventRow] = []
        audits: list[AuditRow] = []
        for case in batch:
            checked += 1
            old = deadline_snapshot(case)
            result, approval_clock = compute_clock(case, logs[case.id], cal, as_of)
            _, fired, fired_audits = derive_clock(case, result, approval_clock, now=now, principal=principal)
            events += fired
            audits += fired_audits
            new = deadline_snapshot(case)
            if (old["due_date"], old["step_due_date"], old["due_provisional"]) == (
                new["due_date"],
                new["step_due_date"],
                new["due_provisional"],
            ):
                continue
            changed += 1
            audits.append(
                audit_row(
                    principal,
                    entity="approval_case",
                    entity_id=case.id,
                    action="deadline.recomputed",
                    before=old,
                    after=new,
                    reason=reason,
                )
            )
            events.append(
                event_row(
                    contracts.build(
                        "approval.deadline_changed",
                        {
                            "case_id": case.id,
                            "project_id": case.project_id,
                            "project_code": case.project_code,
                            "kind": case.kind,
                            "old_due_date": old["due_date"],
                            "new_due_date": new["due_date"],
                            "step_code": case.current_step,
                            "old_step_due_date": old["step_due_date"],
                            "new_step_due_date": new["step_due_date"],
                            "provisional": case.due_provisional,
                            "reason": reason,
                        },
                    ),
                    key=str(case.id),
                )
            )
        await pipeline.write(session, events=events, audits=audits)
    await session.flush()
    return {"checked_cases": checked, "changed_cases": changed}
