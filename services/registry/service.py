"""The project library's domain logic (policy R1–R3, R8, R10, R11, R14).

Keyword-only functions taking a session; they flush, never commit.
"""

from __future__ import annotations

import uuid
from datetime import date
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from services.registry.access import require_read, require_write
from services.registry.codes import STAGES_ZH, scale_band, stage_index
from services.registry.libraries import (
    apply_memberships,
    evaluate_targets,
    lib_tags,
    make_targets,
    membership_values,
    require_four_ones,
    target_values,
)
from services.registry.models import Membership, Project, StageChange, Target, pipeline
from services.registry.present import snapshot
from services.registry.schemas import ProjectIn, ProjectPatch
from shared import clock, contracts
from shared.clients.units import require_unit
from shared.clock import today
from shared.errors import Conflict, InvalidInput, PreconditionFailed
from shared.identity import Principal
from shared.preconditions import IfMatch, require_version

SIMPLE_FIELDS = (
    "name",
    "category",
    "government_investment",
    "carrying_unit_name",
    "carrying_unit_credit_code",
    "contact_leader",
    "team",
    "work_plan",
    "follow_owner",
    "start_conditions_met_on",
    "approval_kind",
    "approval_level",
    "approval_authority",
    "planned_start",
    "planned_finish",
    "actual_start",
    "operation_started_on",
    "capacity_reached_on",
    "major_industrial",
)


def _check_dates(project: Project) -> None:
    if project.planned_start and project.planned_finish and project.planned_finish < project.planned_start:
        raise InvalidInput(
            "计划竣工日期不能早于计划开工日期",
            code="project.dates_invalid",
            fields=[{"field": "planned_finish", "message": "早于计划开工日期"}],
        )


async def _check_unit(principal: Principal, unit_id: str) -> None:
    principal.require_unit(unit_id)
    await require_unit(unit_id)


async def create_project(session: AsyncSession, *, principal: Principal, data: ProjectIn) -> Project:
    await _check_unit(principal, data.unit_id)
    exists = await session.scalar(select(Project.id).where(Project.project_code == data.project_code))
    if exists is not None:
        raise Conflict(
            f"项目代码 {data.project_code} 已在库中",
            code="project.duplicate_code",
            existing_id=str(exists),
            fields=[{"field": "project_code", "message": "项目代码重复"}],
        )
    project, change = build_project(data, principal, today())
    session.add(project)
    await session.flush()
    session.add(change)
    await record_created(session, principal, project)
    return project


def derive_new(data: ProjectIn, on: date) -> SimpleNamespace:
    """A new project as plain values, derived once from its input: ``build_project`` (API,
    demo seed) and the xlsx import's bulk write both start here, so an imported project at
    any stage meets its targets exactly as a created one does (policy R8, R11)."""
    stage_on = data.stage_on or on
    if stage_on > on:
        raise InvalidInput(
            "阶段日期不能晚于今天",
            code="project.stage_date_future",
            fields=[{"field": "stage_on", "message": "晚于今天"}],
        )
    values = {k: getattr(data, k) for k in SIMPLE_FIELDS}
    if stage_index(data.stage) >= stage_index("started") and values["actual_start"] is None:
        values["actual_start"] = stage_on
    memberships = [SimpleNamespace(**m) for m in membership_values(data.libraries, on)]
    p = SimpleNamespace(
        id=uuid.uuid4(),
        project_code=data.project_code,
        unit_id=data.unit_id,
        total_investment=data.total_investment,
        scale_band=scale_band(data.total_investment),
        tags=data.tags,
        lib_tags=lib_tags(memberships),  # type: ignore[arg-type]
        stage=data.stage,
        stage_dates={data.stage: stage_on.isoformat()},
        stage_on=stage_on,
        memberships=memberships,
        targets=[SimpleNamespace(**t) for t in target_values(data.targets)],
        **values,
    )
    evaluate_targets(p)  # type: ignore[arg-type]
    require_four_ones(p)
    return p


def build_project(data: ProjectIn, principal: Principal, on: date) -> tuple[Project, StageChange]:
    """A new Project (with memberships, stage history, targets) from validated input."""
    d = derive_new(data, on)
    values = {k: getattr(d, k) for k in SIMPLE_FIELDS}
    project = Project(
        id=d.id,
        project_code=d.project_code,
        unit_id=d.unit_id,
        total_investment=d.total_investment,
        scale_band=d.scale_band,
        tags=d.tags,
        stage=d.stage,
        stage_dates=d.stage_dates,
        version=1,
        **values,
    )
    project.memberships = [Membership(**vars(m)) for m in d.memberships]
    project.lib_tags = d.lib_tags
    project.targets = [Target(**vars(t)) for t in d.targets]
    change = StageChange(
        project_id=project.id,
        from_stage=None,
        to_stage=d.stage,
        on_date=d.stage_on,
        actor=principal.subject,
        reason="入库",
    )
    return project, change


async def record_created(session: AsyncSession, principal: Principal, project: Project) -> None:
    snap = snapshot(project)
    await pipeline.audit(
        session, principal, entity="project", entity_id=project.id, action="create", after=snap
    )
    await pipeline.emit(session, contracts.build("project.created", snap), key=str(project.id))


async def get_project(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID, for_update: bool = False
) -> Project:
    project = await session.get(Project, project_id, with_for_update=for_update or None)
    return require_read(principal, project, project_id)


def transition(
    project: Project, to_stage: str, on: date, principal: Principal, reason: str | None
) -> StageChange:
    """policy R8: stages only move forward, each move dated and recorded."""
    current = project.stage
    if stage_index(to_stage) < stage_index(current):
        raise InvalidInput(
            f"阶段不能从“{STAGES_ZH[current]}”退回“{STAGES_ZH[to_stage]}”",
            code="project.stage_backwards",
            fields=[{"field": "stage", "message": "阶段只能前进"}],
        )
    if on > today():
        raise InvalidInput(
            "阶段日期不能晚于今天",
            code="project.stage_date_future",
            fields=[{"field": "stage_on", "message": "晚于今天"}],
        )
    last = (project.stage_dates or {}).get(current)
    if last and on < date.fromisoformat(last):
        raise InvalidInput(
            f"阶段日期不能早于进入“{STAGES_ZH[current]}”的日期 {last}",
            code="project.stage_date_order",
            fields=[{"field": "stage_on", "message": "早于上一阶段日期"}],
        )
    project.stage = to_stage
    project.stage_dates = {**(project.stage_dates or {}), to_stage: on.isoformat()}
    if stage_index(to_stage) >= stage_index("started") and project.actual_start is None:
        project.actual_start = on
    return StageChange(
        project_id=project.id,
        from_stage=current,
        to_stage=to_stage,
        on_date=on,
        actor=principal.subject,
        reason=reason,
    )


async def patch_project(
    session: AsyncSession,
    *,
    principal: Principal,
    project_id: uuid.UUID,
    data: ProjectPatch,
    if_match: IfMatch,
) -> Project:
    project = await get_project(session, principal=principal, project_id=project_id, for_update=True)
    require_write(principal, project)
    require_version(if_match, project.version, entity="project", what="项目")
    before = snapshot(project)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    reason = changes.pop("reason", None)
    on = today()
    if "unit_id" in changes and changes["unit_id"] != project.unit_id:
        await _check_unit(principal, changes["unit_id"])
        project.unit_id = changes["unit_id"]
    for name in SIMPLE_FIELDS:
        if name in changes:
            setattr(project, name, changes[name])
    if changes.get("total_investment") is not None:
        project.total_investment = data.total_investment  # type: ignore[assignment]
        project.scale_band = scale_band(project.total_investment)
    if data.libraries is not None:
        apply_memberships(project, data.libraries, on)
    if data.tags is not None:
        project.tags = data.tags
    if data.targets is not None:
        project.targets = make_targets(data.targets)
    stage_change = None
    if data.stage is not None and data.stage != project.stage:
        stage_change = transition(project, data.stage, data.stage_on or on, principal, reason)
        session.add(stage_change)
    _check_dates(project)
    require_four_ones(project)
    evaluate_targets(project)
    project.updated_at = clock.now()
    try:
        await session.flush()
    except StaleDataError as exc:
        raise PreconditionFailed("项目已被他人修改，请刷新后重试", code="project.stale") from exc
    after = snapshot(project)
    await pipeline.audit(
        session,
        principal,
        entity="project",
        entity_id=project.id,
        action="update",
        before=before,
        after=after,
        reason=reason,
    )
    await pipeline.emit(session, contracts.build("project.updated", after), key=str(project.id))
    if stage_change is not None:
        await pipeline.audit(
            session,
            principal,
            entity="project",
            entity_id=project.id,
            action="stage_change",
            before={"stage": stage_change.from_stage},
            after={"stage": stage_change.to_stage, "on": stage_change.on_date.isoformat()},
            reason=reason,
        )
        moved = {
            **after,
            "from_stage": stage_change.from_stage,
            "to_stage": stage_change.to_stage,
            "on": stage_change.on_date,
        }
        await pipeline.emit(session, contracts.build("project.stage_changed", moved), key=str(project.id))
    return project


async def stage_history(session: AsyncSession, project_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(StageChange).where(StageChange.project_id == project_id).order_by(StageChange.id)
    )
    return [
        {
            "from_stage": r.from_stage,
            "to_stage": r.to_stage,
            "on": r.on_date,
            "actor": r.actor,
            "reason": r.reason,
            "at": r.at,
        }
        for r in rows
    ]
