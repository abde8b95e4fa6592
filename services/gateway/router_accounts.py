"""Staff account administration (admin and key office; every change audited, issue 14)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from sqlalchemy import select

from services.gateway import accounts
from services.gateway.guard import require_scope
from services.gateway.models import User
from services.gateway.schemas import ReasonIn, UserIn, UserOut, UserPatch, UserWithPassword
from shared.db import DbSession, UnitOfWorkRoute
from shared.identity import Principal

router = APIRouter(prefix="/api/v1/users", tags=["users"], route_class=UnitOfWorkRoute)
UserAdmin = Annotated[Principal, require_scope("admin:users")]
Username = Annotated[str, Path(max_length=60, description="用户名")]


@router.get("", response_model=list[UserOut], summary="工作人员账号列表（管理员、重点办）")
async def list_users(session: DbSession, principal: UserAdmin) -> list[User]:
    return list(await session.scalars(select(User).order_by(User.username)))


@router.post(
    "", status_code=201, response_model=UserWithPassword, summary="新建工作人员账号（返回一次性临时密码）"
)
async def create_user(data: UserIn, session: DbSession, principal: UserAdmin) -> UserWithPassword:
    user, password = await accounts.create_user(session, principal=principal, data=data.model_dump())
    return UserWithPassword(**UserOut.model_validate(user).model_dump(), temporary_password=password)


@router.patch("/{username}", response_model=UserOut, summary="停用/启用、调整单位或角色（原令牌数秒内失效）")
async def update_user(username: Username, data: UserPatch, session: DbSession, principal: UserAdmin) -> User:
    changes = data.model_dump(exclude_unset=True)
    reason = changes.pop("reason", None)
    return await accounts.update_user(
        session, principal=principal, username=username[:60], changes=changes, reason=reason
    )


@router.post(
    "/{username}/reset-password",
    response_model=UserWithPassword,
    summary="重置密码（返回一次性临时密码，原令牌数秒内失效）",
)
async def reset_password(
    username: Username, data: ReasonIn, session: DbSession, principal: UserAdmin
) -> UserWithPassword:
    user, password = await accounts.reset_password(
        session, principal=principal, username=username[:60], reason=data.reason
    )
    return UserWithPassword(**UserOut.model_validate(user).model_dump(), temporary_password=password)
