"""The monthly review's notices and summons (一通报、两约谈, policy R28).

Counting rule (docs/scoring.md): the review of month M issues one notice for each
assignment whose deadline is on or before the last day of M and which had no valid
completion by that day: none reported, reported after it, or the reported completion
judged badly done by the key office (a badly-done completion never counts). At most one
notice per assignment and month.

A notice's ordinal — what decides the summons — is counted, by default
(``KPP_SCORING_SUMMONS_COUNT=unit``), per responsible unit within the calendar year: 1 +
the unit's earlier notices for unfinished tasks that year, whichever tasks (the text
summons 对两次通报未完成任务的责任单位负责人, a unit's head).  A notice for a badly-done
completion is a notice only and is not counted.  With ``task`` the ordinal is 1 + the
notices the same assignment received in earlier months (every reason).  Ordinal 1: notice
only; 2: notice and a summons of the unit head by the deputy county head in charge (the
first of the unit's ``deputy_heads``); 3 and later: notice and a summons by the county's
principal leader (the unit's ``principal_leader``).  Both are names the key office keeps in
the unit directory (``PUT /api/v1/units/{id}/leaders``); the summons stores the name
(``summoner_name``) as it was that day.  Counting per unit, a unit is
summoned at most once per level and month.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.scoring import access
from services.scoring.config import scoring_settings
from services.scoring.models import Assignment, Notice, Summons, pipeline
from services.scoring.schemas import NoticeOut, NoticeWithSummons, SummonsOut, SummonsOutcomeIn, UnitNotices
from shared import contracts
from shared.calendar import load_calendar
from shared.clients.units import leaders_of
from shared.clock import today
from shared.errors import Conflict, InvalidInput, NotFound
from shared.identity import Principal
from shared.months import month_bounds

LEVELS = {
    "notice": "通报",
    "deputy_summons": "通报并由分管县领导约谈",
    "principal_summons": "通报并由县主要领导约谈",
}
SUMMONS_WITHIN_WORKING_DAYS = 5


def level_for(ordinal: int) -> str:
    """R28: the 2nd notice of an assignment brings the deputy head, the 3rd+ the principal."""
    if ordinal <= 1:
        return "notice"
    return "deputy_summons" if ordinal == 2 else "principal_summons"


async def review_month(
    session: AsyncSession, *, principal: Principal, month: str, units: dict[str, dict[str, Any]]
) -> list[Notice]:
    """Issue the month's missing notices (and summons); returns the ones issued now."""
    _, last = month_bounds(month)
    later_or_same = select(Notice.id).where(Notice.assignment_id == Assignment.id, Notice.month >= month)
    due = (
        await session.scalars(
            select(Assignment)
            .where(
                Assignment.deadline <= last,
                or_(
                    Assignment.completed_on.is_(None),
                    Assignment.completed_on > last,
                    Assignment.status == "badly_done",
                ),
                ~later_or_same.exists(),
            )
            .order_by(Assignment.unit_id, Assignment.deadline, Assignment.id)
            .with_for_update()
        )
    ).all()
    issued: list[Notice] = []
    if not due:
        return issued
    calendar = await load_calendar()
    per_unit = scoring_settings().summons_count == "unit"
    earlier = await (
        _unit_counts(session, month, {a.unit_id for a in due})
        if per_unit
        else _task_counts(session, month, [a.id for a in due])
    )
    summoned: set[tuple[str, str]] = set()
    for a in due:
        badly = a.status == "badly_done" and a.completed_on is not None and a.completed_on <= last
        key = a.unit_id if per_unit else a.id
        if per_unit and badly:  # R28 counts notices for unfinished tasks only
            ordinal = 1
        else:
            earlier[key] = ordinal = int(earlier.get(key, 0)) + 1
        notice = Notice(
            id=uuid.uuid4(),
            assignment_id=a.id,
            unit_id=a.unit_id,
            month=month,
            ordinal=ordinal,
            reason="badly_done" if badly else "unfinished",
            level=level_for(ordinal),
            issued_on=today(),
        )
        session.add(notice)
        await session.flush()
        after = NoticeOut.model_validate(notice).model_dump(mode="json")
        await pipeline.audit(
            session, principal, entity="notice", entity_id=notice.id, action="issue", after=after
        )
        announced = after | {"task": a.task, "deadline": a.deadline, "level_name": LEVELS[notice.level]}
        await pipeline.emit(session, contracts.build("notice.issued", announced), key=str(a.id))
        if notice.level != "notice" and (not per_unit or (a.unit_id, notice.level) not in summoned):
            summoned.add((a.unit_id, notice.level))
            await _summon(
                session,
                principal=principal,
                notice=notice,
                unit=units.get(a.unit_id) or {"id": a.unit_id},
                due_by=calendar.add_working_days(notice.issued_on, SUMMONS_WITHIN_WORKING_DAYS),
            )
        issued.append(notice)
    return issued


async def _task_counts(session: AsyncSession, month: str, ids: list[uuid.UUID]) -> dict:
    """Per task: each assignment's notices in months before ``month``."""
    rows = await session.execute(
        select(Notice.assignment_id, func.count())
        .where(Notice.assignment_id.in_(ids), Notice.month < month)
        .group_by(Notice.assignment_id)
    )
    return dict(rows.all())


async def _unit_counts(session: AsyncSession, month: str, unit_ids: set[str]) -> dict:
    """Per unit (policy R28): each unit's notices for unfinished tasks earlier in the year."""
    rows = await session.execute(
        select(Notice.unit_id, func.count())
        .where(
            Notice.unit_id.in_(sorted(unit_ids)),
            Notice.reason == "unfinished",
            Notice.month >= f"{month[:4]}-01",
            Notice.month < month,
        )
        .group_by(Notice.unit_id)
    )
    return dict(rows.all())


async def _summon(
    session: AsyncSession, *, principal: Principal, notice: Notice, unit: dict[str, Any], due_by
) -> Summons:
    deputy = notice.level == "deputy_summons"
    leaders = leaders_of(unit)
    name = (leaders.deputy_heads[0] if leaders.deputy_heads else None) if deputy else leaders.principal_leader
    role = "分管县领导" if deputy else "县主要领导"
    summoner = f"{role} {name}" if name else f"{role}（单位名录未载，请重点办维护）"
    s = Summons(
        id=uuid.uuid4(),
        notice_id=notice.id,
        assignment_id=notice.assignment_id,
        unit_id=notice.unit_id,
        month=notice.month,
        level="deputy" if deputy else "principal",
        summoner=summoner,
        summoner_name=name,
        summoned=f"{leaders.unit_name} {leaders.head}".strip(),
        issued_on=notice.issued_on,
        due_by=due_by,
        status="scheduled",
    )
    session.add(s)
    await session.flush()
    after = SummonsOut.model_validate(s).model_dump(mode="json")
    await pipeline.audit(session, principal, entity="summons", entity_id=s.id, action="issue", after=after)
    await pipeline.emit(session, contracts.build("summons.issued", after), key=str(notice.assignment_id))
    return s


async def record_outcome(
    session: AsyncSession, *, principal: Principal, summons_id: uuid.UUID, data: SummonsOutcomeIn
) -> Summons:
    access.require_summons_recorder(principal)
    s = await session.scalar(select(Summons).where(Summons.id == summons_id).with_for_update())
    if s is None:
        raise NotFound(f"约谈 {summons_id} 不存在", code="summons.not_found")
    if s.status == "held":
        raise Conflict("该约谈已记录结果", code="summons.already_held")
    if data.held_on < s.issued_on or data.held_on > today():
        raise InvalidInput(
            "约谈日期应在约谈决定日期与今天之间",
            code="summons.held_on_invalid",
            fields=[{"field": "held_on", "message": "日期不合理"}],
        )
    before = SummonsOut.model_validate(s).model_dump(mode="json")
    s.held_on, s.outcome, s.status = data.held_on, data.outcome, "held"
    await session.flush()
    after = SummonsOut.model_validate(s).model_dump(mode="json")
    await pipeline.audit(
        session,
        principal,
        entity="summons",
        entity_id=s.id,
        action="record_outcome",
        before=before,
        after=after,
    )
    await pipeline.emit(session, contracts.build("summons.held", after), key=str(s.assignment_id))
    return s


async def list_summons(
    session: AsyncSession, *, principal: Principal, unit_id: str | None, month: str | None
) -> list[Summons]:
    stmt = select(Summons).where(access.unit_scope(Summons.unit_id, principal, unit_id))
    stmt = stmt.order_by(Summons.month, Summons.unit_id, Summons.id)
    if month:
        stmt = stmt.where(Summons.month == month)
    return list((await session.scalars(stmt.limit(2000))).all())


async def unit_notices(session: AsyncSession, *, principal: Principal, unit_id: str) -> UnitNotices:
    access.require_read_unit(principal, unit_id)
    rows = (
        await session.execute(
            select(Notice, Assignment.task)
            .join(Assignment, Assignment.id == Notice.assignment_id)
            .where(Notice.unit_id == unit_id)
            .order_by(Notice.month, Notice.assignment_id)
        )
    ).all()
    summons = (
        await session.scalars(
            select(Summons).where(Summons.unit_id == unit_id).order_by(Summons.month, Summons.id)
        )
    ).all()
    by_notice = {s.notice_id: SummonsOut.model_validate(s) for s in summons}
    notices = [
        NoticeWithSummons(
            **NoticeOut.model_validate(n).model_dump(),
            level_name=LEVELS[n.level],
            task=task,
            summons=by_notice.get(n.id),
        )
        for n, task in rows
    ]
    return UnitNotices(unit_id=unit_id, notices=notices, summons=list(by_notice.values()))


async def month_notices(session: AsyncSession, month: str) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(Notice, Assignment.task, Assignment.deadline)
            .join(Assignment, Assignment.id == Notice.assignment_id)
            .where(Notice.month == month)
            .order_by(Notice.unit_id, Notice.assignment_id)
        )
    ).all()
    return [
        NoticeOut.model_validate(n).model_dump(mode="json")
        | {"task": task, "deadline": deadline.isoformat(), "level_name": LEVELS[n.level]}
        for n, task, deadline in rows
    ]
