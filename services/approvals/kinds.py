"""Approval kinds (policy R16, R17, R21): ordered steps, each with a limit and an agency.

Built in: ``low_risk_small`` (R16: project code/filing → construction permit → completion
acceptance → real-estate certificate, 20 working days for the whole chain, the split
configurable, the total enforced) and the "three zeros" utility connections (R21), answered
by the utilities of the unit directory (util-power 供电, util-water 供水, util-drainage 排水).
Administrators define other kinds.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.approvals.clock import KindSpec, StepSpec
from services.approvals.config import approvals_settings
from services.approvals.models import ApprovalKind, pipeline
from services.approvals.schemas import CaseIn, KindIn, KindUpdate, StepIn, ThreeZerosIn
from shared.clients.units import require_unit
from shared.errors import Conflict, InvalidInput, NotFound
from shared.identity import Principal

LOW_RISK_SMALL = "low_risk_small"


def builtin_kinds() -> list[dict]:
    s = approvals_settings()
    common = {
        "warn_share": Decimal(str(s.warn_share)),
        "warn_days_left": s.warn_days_left,
        "supplement_window_days": s.supplement_window_days,
        "builtin": True,
    }
    return [
        {
            "code": LOW_RISK_SMALL,
            "name": "社会投资低风险小型项目审批全链条",
            "category": "chain",
            "steps": [
                {
                    "code": "project_filing",
                    "name": "项目赋码备案",
                    "limit_days": 3,
                    "agency_unit_id": "dept-fgj",
                },
                {
                    "code": "construction_permit",
                    "name": "施工许可",
                    "limit_days": 7,
                    "agency_unit_id": "dept-zjj",
                },
                {
                    "code": "completion_acceptance",
                    "name": "竣工验收",
                    "limit_days": 6,
                    "agency_unit_id": "dept-zjj",
                },
                {
                    "code": "property_certificate",
                    "name": "不动产权证",
                    "limit_days": 4,
                    "agency_unit_id": "dept-zrzy",
                },
            ],
            "total_limit_days": s.low_risk_small_total_days,
            "max_total_days": s.low_risk_small_total_days,
            **common,
        },
        {
            "code": "three_zeros_power",
            "name": "低压小微企业用电报装（“三零”服务）",
            "category": "three_zeros",
            "steps": [
                {"code": "connection", "name": "供电接入", "limit_days": 5, "agency_unit_id": "util-power"}
            ],
            "total_limit_days": 5,
            "max_total_days": None,
            **common,
        },
        {
            "code": "three_zeros_water",
            "name": "小型供水接入（“三零”服务）",
            "category": "three_zeros",
            "steps": [
                {"code": "connection", "name": "供水接入", "limit_days": 5, "agency_unit_id": "util-water"}
            ],
            "total_limit_days": 5,
            "max_total_days": None,
            **common,
        },
        {
            "code": "three_zeros_drainage",
            "name": "小型排水接入（“三零”服务）",
            "category": "three_zeros",
            "steps": [
                {"code": "connection", "name": "排水接入", "limit_days": 5, "agency_unit_id": "util-drainage"}
            ],
            "total_limit_days": 5,
            "max_total_days": None,
            **common,
        },
    ]


def three_zeros_facts(kind: ApprovalKind, data: CaseIn) -> dict | None:
    """R21: a three-zeros request records the three zeros as facts of the case and the
    utility that answers it (the connection step's unit); other kinds record none."""
    if kind.category != "three_zeros":
        if data.three_zeros is not None:
            raise InvalidInput(
                f"审批类型 {kind.code} 不是“三零”接入服务，不登记三零事实",
                code="approval_case.three_zeros_not_applicable",
                fields=[{"field": "three_zeros", "message": "仅三零服务类型"}],
            )
        return None
    facts = (data.three_zeros or ThreeZerosIn()).model_dump()
    return facts | {"utility_unit_id": kind.steps[0]["agency_unit_id"]}


async def ensure_builtin_kinds(session: AsyncSession) -> int:
    rows = builtin_kinds()
    result = await session.execute(
        pg_insert(ApprovalKind)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["code"])
        .returning(ApprovalKind.code)
    )
    return len(result.all())


def kind_json(k: ApprovalKind) -> dict:
    return {
        "code": k.code,
        "name": k.name,
        "category": k.category,
        "steps": k.steps,
        "total_limit_days": k.total_limit_days,
        "max_total_days": k.max_total_days,
        "steps_limit_sum": sum(s["limit_days"] for s in k.steps),
        "warn_share": format(Decimal(k.warn_share), "f"),
        "warn_days_left": k.warn_days_left,
        "supplement_window_days": k.supplement_window_days,
        "builtin": k.builtin,
        "version": k.version,
    }


def check_limits(steps: list[dict], total: int, max_total: int | None, *, field: str = "steps") -> None:
    """R16: the sum of step limits may not break the chain total; the total its ceiling."""
    if max_total is not None and total > max_total:
        raise InvalidInput(
            f"全链条时限 {total} 个工作日超过政策上限 {max_total} 个工作日",
            code="approval_kind.total_exceeds_policy",
            fields=[{"field": "total_limit_days", "message": f"不得超过 {max_total}"}],
        )
    limit_sum = sum(s["limit_days"] for s in steps)
    if limit_sum > total:
        raise InvalidInput(
            f"各环节时限之和 {limit_sum} 个工作日超过全链条时限 {total} 个工作日",
            code="approval_kind.step_sum_exceeds_total",
            fields=[{"field": field, "message": f"合计 {limit_sum} > {total}"}],
        )


async def _checked_steps(steps: list[StepIn]) -> list[dict]:
    codes = [s.code for s in steps]
    if len(set(codes)) != len(codes):
        raise InvalidInput(
            "环节代码重复",
            code="approval_kind.duplicate_step",
            fields=[{"field": "steps", "message": "环节代码须唯一"}],
        )
    for i, s in enumerate(steps):
        await require_unit(s.agency_unit_id, field=f"steps[{i}].agency_unit_id")
    return [s.model_dump() for s in steps]


async def get_kind(
    session: AsyncSession, code: str, *, field: str = "kind", missing: str = "invalid"
) -> ApprovalKind:
    kind = await session.get(ApprovalKind, code)
    if kind is None and code in {k["code"] for k in builtin_kinds()}:
        await ensure_builtin_kinds(session)
        kind = await session.get(ApprovalKind, code)
    if kind is None:
        if missing == "not_found":
            raise NotFound(f"审批类型 {code} 不存在", code="approval_kind.not_found")
        raise InvalidInput(
            f"审批类型 {code} 不存在",
            code="approval_kind.unknown",
            fields=[{"field": field, "message": "未知审批类型"}],
        )
    return kind


async def list_kinds(session: AsyncSession) -> list[ApprovalKind]:
    await ensure_builtin_kinds(session)
    return list((await session.scalars(select(ApprovalKind).order_by(ApprovalKind.code))).all())


async def create_kind(session: AsyncSession, *, principal: Principal, data: KindIn) -> ApprovalKind:
    principal.require_office()
    await ensure_builtin_kinds(session)
    if await session.get(ApprovalKind, data.code) is not None:
        raise Conflict(f"审批类型 {data.code} 已存在", code="approval_kind.duplicate")
    steps = await _checked_steps(data.steps)
    total = data.total_limit_days or sum(s["limit_days"] for s in steps)
    check_limits(steps, total, None)
    s = approvals_settings()
    kind = ApprovalKind(
        code=data.code,
        name=data.name,
        category=data.category,
        steps=steps,
        total_limit_days=total,
        max_total_days=None,
        warn_share=Decimal(str(data.warn_share or s.warn_share)),
        warn_days_left=s.warn_days_left if data.warn_days_left is None else data.warn_days_left,
        supplement_window_days=data.supplement_window_days or s.supplement_window_days,
        builtin=False,
        version=1,
    )
    session.add(kind)
    await session.flush()
    await pipeline.audit(
        session,
        principal,
        entity="approval_kind",
        entity_id=kind.code,
        action="create",
        after=kind_json(kind),
    )
    return kind


async def update_kind(
    session: AsyncSession, *, principal: Principal, code: str, data: KindUpdate
) -> ApprovalKind:
    principal.require_office()
    kind = await get_kind(session, code, missing="not_found")
    before = kind_json(kind)
    steps = await _checked_steps(data.steps) if data.steps is not None else kind.steps
    if (
        kind.code == LOW_RISK_SMALL
        and data.steps is not None
        and [s["code"] for s in steps] != [s["code"] for s in kind.steps]
    ):
        raise InvalidInput(
            "低风险小型项目的四个环节由政策规定，只能调整各环节时限",
            code="approval_kind.fixed_steps",
            fields=[{"field": "steps", "message": "环节不可增删或换序"}],
        )
    total = data.total_limit_days or kind.total_limit_days
    check_limits(steps, total, kind.max_total_days)
    kind.steps, kind.total_limit_days = steps, total
    if data.name is not None:
        kind.name = data.name
    if data.warn_share is not None:
        kind.warn_share = Decimal(str(data.warn_share))
    if data.warn_days_left is not None:
        kind.warn_days_left = data.warn_days_left
    if data.supplement_window_days is not None:
        kind.supplement_window_days = data.supplement_window_days
    kind.version += 1
    await session.flush()
    await pipeline.audit(
        session,
        principal,
        entity="approval_kind",
        entity_id=kind.code,
        action="update",
        before=before,
        after=kind_json(kind),
        reason=data.reason,
    )
    return kind


def spec_of(case_or_kind) -> KindSpec:
    """The clock's view of a case's (snapshotted) kind."""
    return KindSpec(
        code=case_or_kind.kind if hasattr(case_or_kind, "kind") else case_or_kind.code,
        steps=tuple(
            StepSpec(s["code"], s["name"], int(s["limit_days"]), s["agency_unit_id"])
            for s in case_or_kind.steps
        ),
        total_limit_days=int(case_or_kind.total_limit_days),
        warn_share=float(case_or_kind.warn_share),
        warn_days_left=int(case_or_kind.warn_days_left),
        supplement_window_days=int(case_or_kind.supplement_window_days),
    )
