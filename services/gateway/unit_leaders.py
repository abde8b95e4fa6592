"""The leaders of a unit, kept by the key office in the unit directory (policy R28).

Each unit has the county's principal leader (主要领导) who summons its head after three
notices and the deputy county heads in charge (分管县领导; the first listed summons after two).
They are names the office maintains — changed with ``PUT /api/v1/units/{id}/leaders``,
audited, their history at ``GET /api/v1/units/{id}/history`` — and reach the services through
``shared.clients.units``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.guard import OutsidePrincipal
from services.gateway.models import Unit, pipeline
from services.gateway.schemas import UnitOut
from shared.db import DbSession, UnitOfWorkRoute
from shared.errors import Forbidden, InvalidInput, NotFound
from shared.identity import Principal
from shared.text import Name

UnitIdPath = Annotated[str, Path(max_length=40, description="单位 id")]

LeaderName = Annotated[Name, StringConstraints(strip_whitespace=True, min_length=2, max_length=50)]


class LeadersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    principal_leader: LeaderName = Field(description="县主要领导姓名（三次通报后约谈该单位负责人）")
    deputy_heads: list[LeaderName] = Field(
        min_length=1, max_length=10, description="分管县领导姓名（首位于两次通报后约谈）"
    )
    reason: str | None = Field(None, max_length=500, description="变更原因（记入审计）")


class HistoryEntry(BaseModel):
    at: datetime = Field(description="时间")
    actor: str = Field(description="操作人")
    actor_role: str | None = Field(description="操作人角色")
    action: str = Field(description="操作")
    before: dict | None = Field(description="变更前")
    after: dict | None = Field(description="变更后")
    reason: str | None = Field(description="原因")


router = APIRouter(prefix="/api/v1", route_class=UnitOfWorkRoute, tags=["units"])


def leaders_of(unit: Unit) -> dict:
    return {"principal_leader": unit.principal_leader, "deputy_heads": list(unit.deputy_heads or [])}


async def _unit(session: AsyncSession, unit_id: str, *, lock: bool = False) -> Unit:
    unit = await session.get(Unit, unit_id, with_for_update=lock or None)
    if unit is None:
        raise NotFound(f"单位 {unit_id} 不存在", code="unit.not_found")
    return unit


async def set_leaders(session: AsyncSession, *, principal: Principal, unit_id: str, data: LeadersIn) -> Unit:
    principal.require_office()
    if len(set(data.deputy_heads)) != len(data.deputy_heads):
        raise InvalidInput(
            "分管县领导姓名重复",
            code="unit.deputy_heads_duplicate",
            fields=[{"field": "deputy_heads", "message": "姓名不得重复"}],
        )
    unit = await _unit(session, unit_id, lock=True)
    before = leaders_of(unit)
    unit.principal_leader = data.principal_leader
    unit.deputy_heads = list(data.deputy_heads)
    await session.flush()
    await pipeline.audit(
        session,
        principal,
        entity="unit",
        entity_id=unit.id,
        action="leaders.set",
        before=before,
        after=leaders_of(unit),
        reason=data.reason,
    )
    return unit


@router.put(
    "/units/{unit_id}/leaders", response_model=UnitOut, summary="维护单位的县主要领导和分管县领导（重点办）"
)
async def put_leaders(
    unit_id: UnitIdPath, data: LeadersIn, session: DbSession, principal: OutsidePrincipal
) -> Unit:
    return await set_leaders(session, principal=principal, unit_id=unit_id, data=data)


@router.get(
    "/units/{unit_id}/history",
    response_model=list[HistoryEntry],
    summary="单位名录变更记录（重点办、管理员、县领导）",
)
async def unit_history(unit_id: UnitIdPath, session: DbSession, principal: OutsidePrincipal) -> list[dict]:
    if not principal.reads_all or principal.app_key:
        raise Forbidden("仅重点办、管理员和县领导可查看单位变更记录", code="auth.office_only")
    await _unit(session, unit_id)
    rows = await pipeline.history(session, "unit", unit_id)
    return rows
