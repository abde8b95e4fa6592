"""Events the issues service consumes: ``approval.overdue`` opens one supervision matter per
case and responsible agency (policy R24); ``calendar.year_changed`` recomputes open deadlines
from the announced year."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.issues import clock, supervision
from services.issues.models import Issue, pipeline
from services.issues.service import event_payload, snapshot
from shared.calendar import load_calendar, remember_year
from shared.clients.registry import ProjectRef, get_project
from shared.contracts.approvals import CalendarYearChangedV1, OverdueV1
from shared.contracts.issues import IssueCreatedV1
from shared.errors import KPPError
from shared.identity import SYSTEM_PRINCIPAL

log = logging.getLogger("kpp.issues.consumers")

# keywords in an approval step's name → the problem kind
_KIND_WORDS = (
    ("环评", "eia"),
    ("环境影响", "eia"),
    ("林地", "forest_land"),
    ("用地", "land"),
    ("土地", "land"),
    ("不动产", "land"),
    ("规划", "land"),
    ("水土", "water"),
    ("取水", "water"),
    ("节能", "energy_saving"),
    ("安全", "safety_review"),
)


def kind_for(step_name: str | None, approval_kind: str | None) -> str:
    text_ = f"{step_name or ''} {approval_kind or ''}"
    for word, kind in _KIND_WORDS:
        if word in text_:
            return kind
    return "other"


def breach_line(p: OverdueV1) -> str:
    step = p.step_name or p.step_code or "审批全链条"
    return f"「{step}」已超过办理时限（期限 {p.due_date}，{p.overdue_since} 起超期）"


async def _add_breach(session: AsyncSession, ref: str, p: OverdueV1, event_id: str, breach: str) -> bool:
    """Add ``breach`` to the case and agency's open matter; False when there is none."""
    existing = (
        await session.scalars(
            select(Issue).where(Issue.source == "approval_overdue", Issue.source_ref == ref).with_for_update()
        )
    ).first()
    if existing is None:
        return False
    if breach in existing.description:
        log.info("approval %s breach already on matter %s", ref, existing.id)
        return True
    before = snapshot(existing)
    existing.description = f"{existing.description}；另{breach}"
    existing.updated_at = clock.now()
    await session.flush()
    await pipeline.audit(
        session,
        SYSTEM_PRINCIPAL,
        entity="issue",
        entity_id=existing.id,
        action="approval_overdue.added",
        before=before,
        after=snapshot(existing)
        | {"description": existing.description, "event_id": event_id, "step_code": p.step_code},
        reason=f"同一案件同一责任部门再次超期：{breach}",
    )
    return True


async def on_approval_overdue(session: AsyncSession, event: dict[str, Any]) -> None:
    """policy R24: an overdue approval becomes one supervision matter per case and
    responsible agency; a later breach at the same agency (another step, or the chain
    breached in that agency's step) is added to that matter, never a second one.

    The inbox already drops a redelivered event id; the unique (source, source_ref) index
    also makes a concurrent second event for the same case and agency open nothing new.
    """
    p: OverdueV1 = event["payload"]
    agency = p.agency_unit_id or "*"
    ref = f"{p.case_id}:{agency}"
    breach = breach_line(p)
    if await _add_breach(session, ref, p, event["id"], breach):
        return
    project_id = p.project_id
    project: ProjectRef | None = None
    try:
        project = await get_project(project_id)
    except KPPError as exc:  # the matter is opened anyway; project details stay as given
        log.warning("registry lookup for %s failed (%s); opening with event data", project_id, exc)
    description = f"审批事项超期：{p.project_code} 项目{breach}，审批案件 {p.case_id}，转入督办"
    values = dict(
        id=uuid.uuid4(),
        project_id=project_id,
        project_code=project.code if project else p.project_code,
        project_name=project.name if project else None,
        project_unit_id=(project and project.unit_id) or p.unit_id,
        enterprise_code=project.carrying_unit_credit_code if project else None,
        kind=kind_for(p.step_name, p.kind),
        description=description,
        source="approval_overdue",
        source_ref=ref,
        reporter=SYSTEM_PRINCIPAL.subject,
        reporter_name=SYSTEM_PRINCIPAL.name,
        reporter_role=str(SYSTEM_PRINCIPAL.role),
        attachments=[],
        step="discovered",
        responsible_unit_id=p.agency_unit_id,
        assisting_unit_ids=[],
        redo_count=0,
        overdue=False,
        close_supervision=False,
        escalation_level=0,
        deadline_provisional=False,
        version=1,
    )
    inserted = (
        await session.execute(
            pg_insert(Issue)
            .values(**values)
            .on_conflict_do_nothing(
                index_elements=["source", "source_ref"], index_where=text("source_ref IS NOT NULL")
            )
            .returning(Issue.id)
        )
    ).first()
    if inserted is None:  # opened concurrently by the other breach: add to it
        await _add_breach(session, ref, p, event["id"], breach)
        return
    issue = await session.get(Issue, inserted.id)
    assert issue is not None
    await pipeline.audit(
        session,
        SYSTEM_PRINCIPAL,
        entity="issue",
        entity_id=issue.id,
        action="open_from_approval_overdue",
        after=snapshot(issue) | {"source_ref": ref, "event_id": event["id"]},
        reason=description,
    )
    await pipeline.emit(
        session, IssueCreatedV1.model_validate(event_payload(issue) | {"source_ref": ref}), key=str(issue.id)
    )


async def on_calendar_year_changed(session: AsyncSession, event: dict[str, Any]) -> None:
    """policy R15, R24: a year of the calendar was loaded or corrected at approvals; open
    deadlines counted from a limit are recomputed from the announced data and audited."""
    p: CalendarYearChangedV1 = event["payload"]
    await load_calendar()  # the last known calendar (the event brings the changed year)
    cal = remember_year(p.model_dump(exclude={"event_version", "revision", "reason"}), revision=p.revision)
    reason = f"工作日历调整（{p.year} 年，修订 {p.revision}），期限按工作日重算"
    changed = await supervision.recompute_deadlines(session, cal, clock.today(), reason=reason)
    log.info("calendar %s revision %s: %d deadlines recomputed", p.year, p.revision, changed)


HANDLERS = {"approval.overdue": on_approval_overdue, "calendar.year_changed": on_calendar_year_changed}
