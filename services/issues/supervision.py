"""Deadlines and supervision (policy R24) and pending visits (policy R25): the daily sweep.

The sweep is idempotent: a problem is flagged overdue once per deadline (``overdue`` is
set in the same statement that selects it), reminders are unique per problem, kind and
day. Deadlines counted from a limit are recomputed only when the approvals service announces
a calendar change (``calendar.year_changed``, see ``consumers``), never by the sweep.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.issues import clock
from services.issues.models import Issue, Reminder, pipeline
from services.issues.service import event_payload, snapshot
from shared.calendar import WorkingCalendar
from shared.contracts.issues import IssueOverdueV1
from shared.identity import SYSTEM_PRINCIPAL, Principal

KEY_OFFICE_UNIT = "office-zdb"


async def _remind(
    session: AsyncSession, issue: Issue, *, unit: str | None, kind: str, on: date, message: str
) -> None:
    if not unit:
        return
    await session.execute(
        pg_insert(Reminder)
        .values(issue_id=issue.id, unit_id=unit, kind=kind, on=on, message=message)
        .on_conflict_do_nothing(index_elements=["issue_id", "kind", "on"])
    )


async def recompute_deadlines(session: AsyncSession, cal: WorkingCalendar, on: date, *, reason: str) -> int:
    """architecture (must): deadlines follow the calendar when a year is corrected.

    Called only for a calendar the approvals service announced (``calendar.year_changed``),
    never for one this service made up. Grouped by (assignment day, limit): one calendar
    count and one UPDATE per group; a deadline whose date stays but whose year became
    official loses its provisional mark.
    """
    open_steps = ("assigned", "closure_requested")
    groups = (
        await session.execute(
            select(Issue.assigned_on, Issue.time_limit_days)
            .distinct()
            .where(
                Issue.step.in_(open_steps),
                Issue.fixed_deadline.is_(None),
                Issue.time_limit_days.is_not(None),
                Issue.assigned_on.is_not(None),
            )
        )
    ).all()
    changed = 0
    for assigned_on, limit in groups:
        due = cal.add_working_days(assigned_on, limit)
        provisional = cal.is_provisional(due)
        rows = (
            await session.execute(
                update(Issue)
                .where(
                    Issue.step.in_(open_steps),
                    Issue.fixed_deadline.is_(None),
                    Issue.assigned_on == assigned_on,
                    Issue.time_limit_days == limit,
                    or_(Issue.deadline != due, Issue.deadline_provisional != provisional),
                )
                .values(
                    deadline=due,
                    deadline_provisional=provisional,
                    version=Issue.version + 1,
                    # a deadline moved into the future lifts the overdue flag (re-armed)
                    overdue=Issue.overdue if due < on else False,
                )
                .returning(Issue.id)
                .execution_options(synchronize_session=False)
            )
        ).all()
        for (issue_id,) in rows:
            await pipeline.audit(
                session,
                SYSTEM_PRINCIPAL,
                entity="issue",
                entity_id=issue_id,
                action="deadline_recomputed",
                after={"deadline": due, "deadline_provisional": provisional},
                reason=reason,
            )
        changed += len(rows)
    return changed


async def sweep(
    session: AsyncSession, *, on: date | None = None, principal: Principal = SYSTEM_PRINCIPAL
) -> dict[str, int]:
    """Flag overdue matters (紧盯督办 + issue.overdue), escalate, remind. Idempotent."""
    on = on or clock.today()
    cal = await clock.calendar()
    stats = {"overdue": 0, "escalated": 0, "reminders": 0}
    working = cal.is_working_day(on)
    # newly overdue: past the deadline and not yet flagged for this deadline
    fresh = (
        await session.scalars(
            select(Issue)
            .where(Issue.step == "assigned", Issue.deadline < on, Issue.overdue.is_(False))
            .order_by(Issue.deadline)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for issue in fresh:
        before = snapshot(issue)
        issue.overdue, issue.close_supervision = True, True
        issue.overdue_since = issue.deadline + timedelta(days=1)
        issue.escalation_level = max(issue.escalation_level, 1)
        await session.flush()
        await pipeline.audit(
            session,
            principal,
            entity="issue",
            entity_id=issue.id,
            action="overdue",
            before=before,
            after=snapshot(issue),
            reason=f"超过办理期限 {issue.deadline}，转入紧盯督办",
        )
        await pipeline.emit(
            session,
            IssueOverdueV1.model_validate(
                event_payload(issue, on) | {"overdue": True, "overdue_since": issue.overdue_since}
            ),
            key=str(issue.id),
        )
        stats["overdue"] += 1
    if not working:
        return stats
    horizon = cal.add_working_days(on, max(clock.REMIND_BEFORE_DAYS))
    open_ = (
        await session.scalars(select(Issue).where(Issue.step == "assigned", Issue.deadline <= horizon))
    ).all()
    for issue in open_:
        left = cal.working_days_between(on, issue.deadline)
        if left < 0:
            level = 1 + (-left) // clock.ESCALATE_EVERY_DAYS
            if level > issue.escalation_level:
                before = snapshot(issue)
                issue.escalation_level = level
                await pipeline.audit(
                    session,
                    principal,
                    entity="issue",
                    entity_id=issue.id,
                    action="escalate",
                    before=before,
                    after=snapshot(issue) | {"escalation_level": level},
                    reason=f"超期 {-left} 个工作日，督办升级至 {level} 级",
                )
                stats["escalated"] += 1
            msg = f"【紧盯督办】问题已超期 {-left} 个工作日（期限 {issue.deadline}），请立即办理"
            await _remind(session, issue, unit=issue.responsible_unit_id, kind="overdue", on=on, message=msg)
            stats["reminders"] += 1
        elif left in clock.REMIND_BEFORE_DAYS:
            msg = (
                f"问题办理期限 {issue.deadline}，剩余 {left} 个工作日"
                if left
                else f"问题今日（{issue.deadline}）到期"
            )
            await _remind(
                session, issue, unit=issue.responsible_unit_id, kind="deadline_near", on=on, message=msg
            )
            stats["reminders"] += 1
    for issue in await pending_visit_issues(session, cal=cal, on=on, only_late=True):
        waited = cal.working_days_between(issue.closure_requested_on, on)
        await _remind(
            session,
            issue,
            unit=KEY_OFFICE_UNIT,
            kind="visit_pending",
            on=on,
            message=f"申请销号已 {waited} 个工作日尚未回访，未回访不得销号",
        )
        stats["reminders"] += 1
    await session.flush()
    return stats


async def pending_visit_issues(
    session: AsyncSession, *, cal: WorkingCalendar, on: date, only_late: bool = False, clauses: Any = ()
) -> list[Issue]:
    stmt = select(Issue).where(Issue.step == "closure_requested", *clauses)
    if only_late:
        # requested at least VISIT_GRACE_DAYS working days ago
        latest = cal.add_working_days(on, -clock.VISIT_GRACE_DAYS)
        stmt = stmt.where(Issue.closure_requested_on <= latest)
    return list((await session.scalars(stmt.order_by(Issue.closure_requested_on))).all())
