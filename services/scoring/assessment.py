"""Rubrics and the monthly run: draft → objections → published (policy R27, R29, R30).

A run stores the inputs it aggregated and the rubric versions it used. While the month is
a draft, running it again re-reviews the assignments and re-collects the facts (nothing
changes if nothing changed); once published, running it again only recomputes the result
from the stored inputs and rubric versions and reports whether it reproduced it exactly.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.scoring.access import unit_scope
from services.scoring.dates import ensure_month_ended
from services.scoring.facts import collect_inputs, digest
from services.scoring.models import AssessmentRun, Objection, Rubric, pipeline
from services.scoring.notices import review_month
from services.scoring.rubric import DEFAULT_ITEMS, KINDS, compute_result, validate_items
from services.scoring.schemas import RubricIn, RubricOut
from shared import clock, contracts
from shared.errors import Conflict, NotFound
from shared.identity import SYSTEM_PRINCIPAL, Principal
from shared.months import parse_month


async def create_rubric(session: AsyncSession, *, principal: Principal, data: RubricIn) -> Rubric:
    """A new version of the township or department rubric (weights must sum to 100)."""
    principal.require_office()
    items = validate_items([i.model_dump(mode="json") for i in data.items])
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"rubric:{data.kind}"})
    latest = await session.scalar(select(func.max(Rubric.version)).where(Rubric.kind == data.kind))
    rubric = Rubric(
        id=uuid.uuid4(),
        kind=data.kind,
        version=int(latest or 0) + 1,
        items=items,
        note=data.note,
        created_by=principal.subject,
    )
    session.add(rubric)
    await session.flush()
    after = RubricOut.model_validate(rubric).model_dump(mode="json")
    await pipeline.audit(
        session,
        principal,
        entity="rubric",
        entity_id=rubric.id,
        action="create",
        after=after,
        reason=data.note,
    )
    return rubric


async def current_rubric(session: AsyncSession, kind: str) -> Rubric:
    """The newest rubric of a kind; version 1 is the documented default, made on first use."""
    rubric = await session.scalar(
        select(Rubric).where(Rubric.kind == kind).order_by(Rubric.version.desc()).limit(1)
    )
    if rubric is None:
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"rubric:{kind}"})
        rubric = await session.scalar(select(Rubric).where(Rubric.kind == kind, Rubric.version == 1))
        if rubric is None:
            rubric = Rubric(
                id=uuid.uuid4(),
                kind=kind,
                version=1,
                items=DEFAULT_ITEMS[kind],
                note="默认评分细则（docs/scoring.md）",
                created_by=SYSTEM_PRINCIPAL.subject,
            )
            session.add(rubric)
            await session.flush()
            await pipeline.audit(
                session,
                SYSTEM_PRINCIPAL,
                entity="rubric",
                entity_id=rubric.id,
                action="create",
                after={"kind": kind, "version": 1, "items": rubric.items},
            )
    return rubric


async def list_rubrics(session: AsyncSession, kind: str | None) -> list[Rubric]:
    for k in KINDS:
        await current_rubric(session, k)
    stmt = select(Rubric).order_by(Rubric.kind, Rubric.version)
    if kind:
        stmt = stmt.where(Rubric.kind == kind)
    return list((await session.scalars(stmt)).all())


async def _rubrics_by_id(session: AsyncSession, ids: dict[str, str]) -> dict[str, dict[str, Any]]:
    out = {}
    for kind, rid in ids.items():
        r = await session.get(Rubric, uuid.UUID(rid))
        assert r is not None  # rubrics are never deleted
        out[kind] = {"id": str(r.id), "version": r.version, "items": r.items}
    return out


async def run_month(
    session: AsyncSession, *, principal: Principal, month: str, units: dict[str, dict[str, Any]]
) -> tuple[AssessmentRun, dict[str, Any]]:
    """Run (or re-run) a month; returns the run and what happened."""
    parse_month(month)
    ensure_month_ended(month)
    principal.require_office()
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"run:{month}"})
    run = await session.get(AssessmentRun, month, with_for_update=True)
    if run is not None and run.status == "published":
        again = compute_result(run.inputs, await _rubrics_by_id(session, run.rubric_ids))
        return run, {"action": "reproduced", "reproduced": again == run.result, "notices_issued": 0}
    issued = await review_month(session, principal=principal, month=month, units=units)
    inputs = await collect_inputs(session, month=month, units=units)
    rubric_ids = {k: str((await current_rubric(session, k)).id) for k in KINDS}
    rubrics = await _rubrics_by_id(session, rubric_ids)
    result = compute_result(inputs, rubrics)
    inputs_digest = digest(inputs)
    info = {"notices_issued": len(issued), "reproduced": None}
    if run is None:
        run = AssessmentRun(
            month=month,
            status="draft",
            revision=1,
            rubric_ids=rubric_ids,
            inputs=inputs,
            inputs_digest=inputs_digest,
            result=result,
            run_by=principal.subject,
        )
        session.add(run)
        await session.flush()
        await pipeline.audit(
            session, principal, entity="assessment", entity_id=month, action="run", after=_summary(run)
        )
        await pipeline.emit(session, contracts.build("assessment.drafted", _summary(run)), key=month)
        return run, info | {"action": "created"}
    if run.inputs_digest == inputs_digest and run.rubric_ids == rubric_ids:
        return run, info | {"action": "unchanged"}
    before = _summary(run)
    run.revision += 1
    run.rubric_ids, run.inputs, run.inputs_digest, run.result = rubric_ids, inputs, inputs_digest, result
    run.run_at, run.run_by = clock.now(), principal.subject
    await session.flush()
    await pipeline.audit(
        session,
        principal,
        entity="assessment",
        entity_id=month,
        action="rerun",
        before=before,
        after=_summary(run),
    )
    return run, info | {"action": "updated"}


def _summary(run: AssessmentRun) -> dict[str, Any]:
    return {
        "month": run.month,
        "status": run.status,
        "revision": run.revision,
        "rubric_ids": run.rubric_ids,
        "inputs_digest": run.inputs_digest,
        "scores": {u["unit_id"]: u["score"] for u in run.result["units"]},
    }


async def get_run(session: AsyncSession, month: str, *, lock: bool = False) -> AssessmentRun:
    parse_month(month)
    run = await session.get(AssessmentRun, month, with_for_update=lock or None)
    if run is None:
        raise NotFound(f"{month} 尚未进行月度考核", code="assessment.not_run")
    return run


async def publish(session: AsyncSession, *, principal: Principal, month: str) -> AssessmentRun:
    """The key office publishes the draft; refused while a unit's objection is open."""
    principal.require_office()
    run = await get_run(session, month, lock=True)
    if run.status == "published":
        raise Conflict(f"{month} 考核结果已发布", code="assessment.already_published")
    open_ids = (
        await session.scalars(
            select(Objection.id).where(Objection.month == month, Objection.status == "open")
        )
    ).all()
    if open_ids:
        raise Conflict(
            f"{month} 尚有 {len(open_ids)} 条异议未处理，不能发布",
            code="assessment.open_objections",
            objection_ids=[str(i) for i in open_ids],
        )
    before = _summary(run)
    run.status, run.published_at, run.published_by = "published", clock.now(), principal.subject
    await session.flush()
    after = _summary(run)
    await pipeline.audit(
        session, principal, entity="assessment", entity_id=month, action="publish", before=before, after=after
    )
    units = [{k: u[k] for k in ("unit_id", "kind", "score", "rank")} for u in run.result["units"]]
    await pipeline.emit(session, contracts.build("assessment.published", after | {"units": units}), key=month)
    return run


async def raise_objection(
    session: AsyncSession,
    *,
    principal: Principal,
    month: str,
    unit_id: str | None,
    item: str | None,
    reason: str,
) -> Objection:
    unit_id = unit_id or principal.unit_id
    principal.require_unit(unit_id)
    run = await get_run(session, month, lock=True)
    if run.status != "draft":
        raise Conflict(f"{month} 考核结果已发布，不再受理异议", code="assessment.not_draft")
    if unit_id not in run.inputs["units"]:
        raise NotFound(f"单位 {unit_id} 不在 {month} 的考核范围内", code="assessment.unit_not_assessed")
    o = Objection(
        id=uuid.uuid4(),
        month=month,
        unit_id=unit_id,
        item=item,
        reason=reason,
        status="open",
        raised_by=principal.subject,
    )
    session.add(o)
    await session.flush()
    await pipeline.audit(
        session,
        principal,
        entity="objection",
        entity_id=o.id,
        action="raise",
        after={"month": month, "unit_id": unit_id, "item": item, "reason": reason},
    )
    return o


async def resolve_objection(
    session: AsyncSession,
    *,
    principal: Principal,
    month: str,
    objection_id: uuid.UUID,
    accepted: bool,
    resolution: str,
) -> Objection:
    principal.require_office()
    o = await session.scalar(
        select(Objection).where(Objection.id == objection_id, Objection.month == month).with_for_update()
    )
    if o is None:
        raise NotFound(f"异议 {objection_id} 不存在", code="objection.not_found")
    if o.status != "open":
        raise Conflict("该异议已处理", code="objection.already_resolved")
    before = {"status": o.status}
    o.status = "accepted" if accepted else "rejected"
    o.resolution, o.resolved_by, o.resolved_at = resolution, principal.subject, clock.now()
    await session.flush()
    await pipeline.audit(
        session,
        principal,
        entity="objection",
        entity_id=o.id,
        action="resolve",
        before=before,
        after={"status": o.status, "resolution": resolution},
        reason=resolution,
    )
    return o


async def list_objections(session: AsyncSession, *, principal: Principal, month: str) -> list[Objection]:
    stmt = select(Objection).where(Objection.month == month, unit_scope(Objection.unit_id, principal))
    stmt = stmt.order_by(Objection.raised_at, Objection.id)
    return list((await session.scalars(stmt)).all())
