"""The daily rules: missing monthly reports (policy R6) and use-it-or-lose-it (policy R13)."""

from __future__ import annotations

import calendar
import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.codes import stage_index
from services.registry.config import registry_settings
from services.registry.models import MilestoneRecord, MissingReport, Project, pipeline
from services.registry.present import milestones, snapshot
from services.registry.progress import deadline, missing
from services.registry.schemas_progress import RevocationIn
from services.registry.service import get_project
from shared import contracts
from shared.clock import today
from shared.errors import Conflict, InvalidInput
from shared.identity import SYSTEM_PRINCIPAL, Principal


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


async def flag_missing_reports(session: AsyncSession, on: date) -> int:
    """policy R6: every month a project was in a library without its report after that
    month's deadline is flagged once, with a ``project.report_missing`` event — all of them,
    not only last month's, so a back-dated project or a day the job missed hides no gap."""
    found = await missing(session, on)
    if not found:
        return 0
    inserted = await session.execute(
        insert(MissingReport)
        .values([{"project_id": pid, "month": month, "flagged_on": on} for pid, month in found])
        .on_conflict_do_nothing()
        .returning(MissingReport.project_id, MissingReport.month)
    )
    new = sorted((r[0], r[1]) for r in inserted)
    if not new:
        return 0
    units = dict(
        (
            await session.execute(
                select(Project.id, Project.unit_id).where(Project.id.in_({pid for pid, _ in new}))
            )
        ).all()
    )
    for pid, month in new:
        payload = {"project_id": pid, "unit_id": units[pid], "month": month, "deadline": deadline(month)}
        await pipeline.emit(session, contracts.build("project.report_missing", payload), key=str(pid))
        await pipeline.audit(
            session, SYSTEM_PRINCIPAL, entity="project", entity_id=pid, action="report_missing", after=payload
        )
    return len(new)


def _payload(p: Project, due: date) -> dict[str, Any]:
    return {
        "project_id": p.id,
        "project_code": p.project_code,
        "unit_id": p.unit_id,
        "conditions_met_on": p.start_conditions_met_on,
        "due_on": due,
    }


def substantive_progress(p: Project) -> bool:
    """Substantive progress = an actual start recorded (实质性开工)."""
    return p.actual_start is not None or stage_index(p.stage) >= stage_index("started")


def period_end(conditions_met_on: date, months: int) -> date:
    """policy R13, 民法典 arts. 200–203: the day the conditions are met is not counted; a
    period of months ends at the end of the day with the same number that many months later
    (or that month's last day). Revocation is possible from the next day on."""
    return add_months(conditions_met_on, months)


async def check_revocations(session: AsyncSession, on: date) -> dict[str, int]:
    """policy R13: county-approved/filed projects whose start conditions were met and whose
    two-month period has run out without substantive progress → warn N days before the
    period's last day, ``revocation_due`` from the day after it; progress clears the flag."""
    settings = registry_settings()
    months, warn = settings.revocation_months, settings.revocation_warning_days
    cutoff = add_months(on + timedelta(days=warn), -months) + timedelta(days=3)
    rows = await session.scalars(
        select(Project)
        .where(
            or_(
                Project.revocation_state.in_(("warned", "due")),
                and_(
                    Project.start_conditions_met_on.is_not(None),
                    Project.start_conditions_met_on <= cutoff,
                    Project.approval_level == "county",
                    Project.revocation_state.is_(None),
                    Project.actual_start.is_(None),
                ),
            )
        )
        .with_for_update(skip_locked=True)
    )
    counts = {"warned": 0, "due": 0, "cleared": 0}
    for p in rows:
        before = {"state": p.revocation_state, "due_on": p.revocation_due_on}
        if substantive_progress(p) or p.start_conditions_met_on is None or p.approval_level != "county":
            p.revocation_state, p.revocation_due_on = None, None
            counts["cleared"] += 1
            why = "已实质性开工" if substantive_progress(p) else "非县级核准/备案项目或无开工条件日期"
            await pipeline.audit(
                session,
                SYSTEM_PRINCIPAL,
                entity="project",
                entity_id=p.id,
                action="revocation_cleared",
                before=before,
                after={"state": None},
                reason=why,
            )
            continue
        due = period_end(p.start_conditions_met_on, months)
        if on > due and p.revocation_state != "due":
            state, event = "due", "project.revocation_due"
        elif on >= due - timedelta(days=warn) and p.revocation_state is None:
            state, event = "warned", "project.revocation_warning"
        else:
            continue
        p.revocation_state, p.revocation_due_on = state, due
        counts[state] += 1
        await pipeline.audit(
            session,
            SYSTEM_PRINCIPAL,
            entity="project",
            entity_id=p.id,
            action=f"revocation_{state}",
            before=before,
            after={"state": state, "due_on": due.isoformat()},
            reason=f"具备开工条件（{p.start_conditions_met_on}）满{months}个月未实质性开工",
        )
        await pipeline.emit(session, contracts.build(event, _payload(p, due)), key=str(p.id))
    await session.flush()
    return counts


async def confirm_revocation(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID, data: RevocationIn
) -> Project:
    """An authorised user records the revocation of approval/filing and land quota."""
    principal.require_office()
    p = await get_project(session, principal=principal, project_id=project_id, for_update=True)
    if p.revocation_state != "due":
        raise Conflict(
            "该项目未到收回期限（须先由每日检查标记为 revocation_due）",
            code="project.revocation_not_due",
            state=p.revocation_state,
        )
    revoked_on = data.on or today()
    if p.revocation_due_on is not None and revoked_on <= p.revocation_due_on:
        raise InvalidInput(
            f"期间至 {p.revocation_due_on} 届满，收回日期须在其后（民法典第200–203条）",
            code="project.revocation_too_early",
            fields=[{"field": "on", "message": "收回日期不晚于期间最后一日"}],
        )
    before = snapshot(p)
    p.revocation_state = "revoked"
    p.revoked_on = revoked_on
    await session.flush()
    after = snapshot(p)
    await pipeline.audit(
        session,
        principal,
        entity="project",
        entity_id=p.id,
        action="revoke",
        before=before,
        after={**after, "revoke_approval": data.revoke_approval, "revoke_land_quota": data.revoke_land_quota},
        reason=data.reason,
    )
    payload = _payload(p, p.revocation_due_on or p.revoked_on)
    payload.update(
        revoked_on=p.revoked_on,
        revoke_approval=data.revoke_approval,
        revoke_land_quota=data.revoke_land_quota,
        reason=data.reason,
    )
    await pipeline.emit(session, contracts.build("project.revoked", payload), key=str(p.id))
    return p


async def record_milestones(session: AsyncSession, on: date) -> int:
    """policy R10: each milestone of a major industrial project is recorded met (reached by its
    date) or missed (its date passed unreached) once, with a ``project.milestone_met`` /
    ``project.milestone_missed`` event; the list filters on the records."""
    projects = (
        await session.scalars(
            select(Project).where(
                Project.major_industrial.is_(True),
                or_(Project.actual_start.is_not(None), Project.planned_start.is_not(None)),
            )
        )
    ).all()
    known = {
        (r.project_id, r.key)
        for r in (
            await session.execute(
                select(MilestoneRecord.project_id, MilestoneRecord.key).where(
                    MilestoneRecord.project_id.in_([p.id for p in projects])
                )
            )
        ).all()
    }
    count = 0
    for p in projects:
        for m in milestones(p, on):
            if m["status"] == "pending" or (p.id, m["key"]) in known:
                continue
            session.add(
                MilestoneRecord(
                    project_id=p.id,
                    key=m["key"],
                    due_on=m["due_on"],
                    reached_on=m["reached_on"],
                    status=m["status"],
                    recorded_on=on,
                )
            )
            payload = {
                "project_id": p.id,
                "project_code": p.project_code,
                "unit_id": p.unit_id,
                "milestone": m["key"],
                "label": m["label"],
                "due_on": m["due_on"],
                "reached_on": m["reached_on"],
                "status": m["status"],
            }
            event = contracts.build(f"project.milestone_{m['status']}", payload)
            await pipeline.emit(session, event, key=str(p.id))
            await pipeline.audit(
                session,
                SYSTEM_PRINCIPAL,
                entity="project",
                entity_id=p.id,
                action=f"milestone_{m['status']}",
                after=payload,
            )
            count += 1
    await session.flush()
    return count


async def run_daily(session: AsyncSession, on: date | None = None) -> dict[str, Any]:
    on = on or today()
    result: dict[str, Any] = await check_revocations(session, on)
    result["missing_reports"] = await flag_missing_reports(session, on)
    result["milestones"] = await record_milestones(session, on)
    return result
