"""Approval cases (R16–R21): opening, reading (the live clock), listing, the fast track."""

from __future__ import annotations

import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.approvals import access
from services.approvals.calendar_store import current_calendar
from services.approvals.clock import STATUTORY_PAUSES, SUPPLEMENT, ClockResult, segment_json
from services.approvals.config import approvals_settings
from services.approvals.eligibility import (
    OFFICE_DECISION,
    check_acceptance,
    fast_track_basis,
    require_in_library,
)
from services.approvals.kinds import check_limits, get_kind, three_zeros_facts
from services.approvals.models import ApprovalCase, pipeline
from services.approvals.recompute import apply_clock, compute_clock, load_log
from services.approvals.schemas import CaseIn, FastTrackIn
from shared import clock, contracts
from shared.clients.registry import get_project
from shared.errors import InvalidInput, NotFound
from shared.identity import Principal


def pct(part: int, whole: int) -> str:
    if whole <= 0:
        return "0.0"
    return str((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP))


def case_summary(case: ApprovalCase) -> dict[str, Any]:
    return {
        "id": case.id,
        "project_id": case.project_id,
        "project_code": case.project_code,
        "project_name": case.project_name,
        "unit_id": case.unit_id,
        "kind": case.kind,
        "kind_name": case.kind_name,
        "state": case.state,
        "phase": case.phase,
        "current_step": case.current_step,
        "received_on": case.received_on,
        "accepted_on": case.accepted_on,
        "due_date": case.due_date,
        "step_due_date": case.step_due_date,
        "due_provisional": case.due_provisional,
        "completed_on": case.completed_on,
        "total_limit_days": case.total_limit_days,
        "project_type": case.project_type,
        "acceptance_mode": case.acceptance_mode,
        "missing_items": case.missing_items,
        "missing_items_due": case.missing_items_due,
        "missing_items_supplied_on": case.missing_items_supplied_on,
        "missing_items_overdue": case.missing_items_overdue,
        "fast_track": case.fast_track,
        "assistant": case.assistant,
        "fast_track_basis": case.fast_track_basis,
        "three_zeros": case.three_zeros,
        "next_threshold_at": case.next_threshold_at,
        "version": case.version,
    }


def budget(result: ClockResult, total: int) -> dict[str, Any]:
    """R16/R17: which step and agency used how much of the chain's budget."""
    by_step = [
        {
            "step_code": s.code,
            "step_name": s.name,
            "agency_unit_id": s.agency_unit_id,
            "limit_days": s.limit_days,
            "used_days": s.used_days,
            "share_of_chain_pct": pct(s.used_days, total),
            "over_limit_days": max(0, s.used_days - s.limit_days),
        }
        for s in result.steps
    ]
    agencies: dict[str, dict[str, Any]] = {}
    for s in result.steps:
        a = agencies.setdefault(
            s.agency_unit_id or "",
            {"agency_unit_id": s.agency_unit_id, "limit_days": 0, "used_days": 0, "steps": []},
        )
        a["limit_days"] += s.limit_days
        a["used_days"] += s.used_days
        a["steps"].append(s.code)
    for a in agencies.values():
        a["share_of_chain_pct"] = pct(a["used_days"], total)
    return {
        "chain_limit_days": total,
        "chain_used_days": result.chain.used_days,
        "by_step": by_step,
        "by_agency": list(agencies.values()),
    }


def clock_view(case: ApprovalCase, result: ClockResult, as_of) -> dict[str, Any]:
    return case_summary(case) | {
        "as_of": as_of,
        "state": result.state,
        "phase": result.phase,
        "deemed_accepted": result.deemed_accepted,
        "chain": segment_json(result.chain),
        "steps": [segment_json(s) for s in result.steps],
        "pauses": [
            {
                "reason": p.reason,
                "reason_name": "补正材料"
                if p.reason == SUPPLEMENT
                else approvals_settings().pause_reasons.get(
                    p.reason, STATUTORY_PAUSES.get(p.reason, p.reason)
                ),
                "step_code": p.step_code,
                "from": p.start,
                "until": p.end,
                "evidence_ref": p.evidence_ref,
            }
            for p in result.pauses
        ],
        "applicant_time": [
            {"before_step": a.before_step, "from": a.start, "until": a.end, "working_days": a.working_days}
            for a in result.applicant_time
        ],
        "budget": budget(result, case.total_limit_days),
    }


async def create_case(session: AsyncSession, *, principal: Principal, data: CaseIn) -> ApprovalCase:
    access.require_open(principal)
    kind = await get_kind(session, data.kind)
    steps = [dict(st) for st in kind.steps]
    if data.step_limits:
        unknown = sorted(set(data.step_limits) - {st["code"] for st in steps})
        if unknown:
            raise InvalidInput(
                f"审批类型 {kind.code} 没有环节 {'、'.join(unknown)}",
                code="approval_case.unknown_step",
                fields=[{"field": "step_limits", "message": "未知环节"}],
            )
        for st in steps:
            st["limit_days"] = int(data.step_limits.get(st["code"], st["limit_days"]))
        if any(st["limit_days"] < 1 for st in steps):
            raise InvalidInput(
                "环节时限至少 1 个工作日",
                code="approval_case.step_limit_invalid",
                fields=[{"field": "step_limits", "message": "须 ≥ 1"}],
            )
        check_limits(steps, kind.total_limit_days, kind.max_total_days, field="step_limits")
    if data.acceptance_mode != "standard":  # policy R19 (eligibility: from the registry below)
        if not data.missing_items or data.missing_items_due is None:
            raise InvalidInput(
                "容缺受理、信用承诺须列明后补材料及其承诺期限",
                code="approval_case.missing_items_required",
                fields=[
                    {"field": "missing_items", "message": "必填"},
                    {"field": "missing_items_due", "message": "必填"},
                ],
            )
    elif data.missing_items or data.missing_items_due:
        raise InvalidInput(
            "常规受理不登记后补材料；请选择容缺受理或信用承诺",
            code="approval_case.missing_items_without_tolerance",
            fields=[{"field": "acceptance_mode", "message": "须为容缺或信用承诺"}],
        )
    if data.fast_track and data.assistant is None:  # policy R20
        raise InvalidInput(
            "进入绿色通道须指定专人协助",
            code="approval_case.assistant_required",
            fields=[{"field": "assistant", "message": "必填"}],
        )
    # read as the system: the 审批局 window opens cases for every project (authorised above),
    # while the registry shows a department only its own projects
    project = await get_project(data.project_id, field="project_id")
    if data.project_code and data.project_code != project.code:
        raise InvalidInput(
            "项目代码与项目库不一致",
            code="approval_case.project_code_mismatch",
            fields=[{"field": "project_code", "message": f"项目库为 {project.code}"}],
        )
    project_type = check_acceptance(data, project)  # policy R19
    basis = fast_track_basis(data, project)  # policy R20
    three_zeros = three_zeros_facts(kind, data)  # policy R21
    now = clock.now()
    case = ApprovalCase(
        id=uuid.uuid4(),
        project_id=data.project_id,
        project_code=project.code,
        project_name=project.name,
        unit_id=project.unit_id,
        kind=kind.code,
        kind_name=kind.name,
        steps=steps,
        total_limit_days=kind.total_limit_days,
        warn_share=kind.warn_share,
        warn_days_left=kind.warn_days_left,
        supplement_window_days=kind.supplement_window_days,
        agency_unit_ids=list(dict.fromkeys(st["agency_unit_id"] for st in steps)),
        project_type=project_type,
        acceptance_mode=data.acceptance_mode,
        missing_items=list(data.missing_items),
        missing_items_due=data.missing_items_due,
        missing_items_overdue=False,
        fast_track=basis is not None,
        fast_track_basis=basis,
        three_zeros=three_zeros,
        assistant=data.assistant.model_dump() if data.assistant else None,
        phase="new",
        state="new",
        thresholds=[],
        fired=[],
        version=0,
        created_by=principal.subject,
        created_at=now,
        updated_at=now,
    )
    session.add(case)
    cal = await current_calendar(session)
    result, approval_clock = compute_clock(case, [], cal, clock.business_date(now))
    await apply_clock(session, case, result, approval_clock, now=now, principal=principal)
    await session.flush()
    await pipeline.audit(
        session,
        principal,
        entity="approval_case",
        entity_id=case.id,
        action="create",
        after=case_summary(case),
    )
    await pipeline.emit(
        session,
        contracts.build(
            "approval.case_opened",
            {
                "case_id": case.id,
                "project_id": case.project_id,
                "project_code": case.project_code,
                "kind": case.kind,
                "unit_id": case.unit_id,
                "fast_track": case.fast_track,
                "acceptance_mode": case.acceptance_mode,
                "agency_unit_ids": case.agency_unit_ids,
                "fast_track_basis": case.fast_track_basis,
            },
        ),
        key=str(case.id),
    )
    return case


async def load_case(session: AsyncSession, case_id: uuid.UUID, *, lock: bool = False) -> ApprovalCase:
    q = select(ApprovalCase).where(ApprovalCase.id == case_id)
    case = (await session.scalars(q.with_for_update() if lock else q)).first()
    if case is None:
        raise NotFound(f"审批案件 {case_id} 不存在", code="approval_case.not_found")
    return case


async def get_case_view(session: AsyncSession, *, principal: Principal, case_id: uuid.UUID) -> dict[str, Any]:
    case = await load_case(session, case_id)
    access.require_read(principal, case)
    cal = await current_calendar(session)
    as_of = clock.today()
    result, _ = compute_clock(case, await load_log(session, case.id), cal, as_of)
    view = clock_view(case, result, as_of)
    view["history"] = await pipeline.history(session, "approval_case", case.id)
    return view


async def list_cases(
    session: AsyncSession,
    *,
    principal: Principal,
    state: str | None,
    project_id: uuid.UUID | None,
    kind: str | None,
    unit_id: str | None,
    fast_track: bool | None,
    page: int,
    page_size: int,
) -> dict[str, Any]:
    q = select(ApprovalCase).where(access.read_scope(principal))
    if state:
        q = q.where(ApprovalCase.state == state)
    if project_id:
        q = q.where(ApprovalCase.project_id == project_id)
    if kind:
        q = q.where(ApprovalCase.kind == kind)
    if unit_id:
        q = q.where(ApprovalCase.unit_id == unit_id)
    if fast_track is not None:
        q = q.where(ApprovalCase.fast_track == fast_track)
    total = await session.scalar(select(func.count()).select_from(q.subquery()))
    rows = await session.scalars(
        q.order_by(ApprovalCase.created_at.desc(), ApprovalCase.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return {
        "items": [case_summary(c) for c in rows],
        "total": total or 0,
        "page": page,
        "page_size": page_size,
    }


async def set_fast_track(
    session: AsyncSession, *, principal: Principal, case_id: uuid.UUID, data: FastTrackIn
) -> ApprovalCase:
    """R20: the office flags (or unflags) a case for the fast track with a designated assistant;
    only a project in a library qualifies."""
    principal.require_office()
    if data.fast_track and data.assistant is None:
        raise InvalidInput(
            "进入绿色通道须指定专人协助",
            code="approval_case.assistant_required",
            fields=[{"field": "assistant", "message": "必填"}],
        )
    case = await load_case(session, case_id, lock=True)
    if data.fast_track:
        require_in_library(await get_project(case.project_id, field="project_id"))
    before = {
        "fast_track": case.fast_track,
        "assistant": case.assistant,
        "fast_track_basis": case.fast_track_basis,
    }
    case.fast_track = data.fast_track
    case.fast_track_basis = OFFICE_DECISION if data.fast_track else None
    case.assistant = data.assistant.model_dump() if data.assistant else None
    case.version += 1
    case.updated_at = clock.now()
    await session.flush()
    await pipeline.audit(
        session,
        principal,
        entity="approval_case",
        entity_id=case.id,
        action="fast_track.set",
        before=before,
        after={
            "fast_track": case.fast_track,
            "assistant": case.assistant,
            "fast_track_basis": case.fast_track_basis,
        },
        reason=data.reason,
    )
    return case
