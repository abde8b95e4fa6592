"""The gateway's own paths: login, the unit directory, and the refusal of unknown paths."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from sqlalchemy import select

from services.gateway import auth
from services.gateway.guard import OutsidePrincipal, require_scope
from services.gateway.models import Unit, User
from services.gateway.schemas import MeOut, TokenOut, UnitOut
from shared.db import DbSession, UnitOfWorkRoute
from shared.errors import NotFound, Unauthorized
from shared.identity import CurrentPrincipal, Principal

router = APIRouter(prefix="/api/v1", route_class=UnitOfWorkRoute)
UnitReader = Annotated[Principal, require_scope("units:read")]


@router.post("/auth/token", response_model=TokenOut, tags=["auth"], summary="登录获取令牌")
async def login(
    session: DbSession,
    username: Annotated[str, Form(max_length=60, description="用户名")],
    password: Annotated[str, Form(max_length=200, description="密码")],
) -> TokenOut:
    user = await auth.authenticate(session, username, password)
    principal = auth.principal_of(user)
    access, ttl = auth.issue_staff_token(principal, version=user.token_version)
    refresh, _ = auth.issue_staff_token(principal, kind="refresh", version=user.token_version)
    return TokenOut(access_token=access, expires_in=ttl, refresh_token=refresh)


@router.post("/auth/refresh", response_model=TokenOut, tags=["auth"], summary="刷新令牌")
async def refresh(
    session: DbSession,
    refresh_token: Annotated[str, Form(max_length=4000, description="刷新令牌")],
) -> TokenOut:
    """A new access token (and refresh token) while the account is still active and unlocked."""
    claimed, version = auth.verify_staff_token_version(refresh_token, kind="refresh")
    username = claimed.subject.removeprefix("user:")
    user = await session.scalar(select(User).where(User.username == username))
    if (
        user is None or not user.active or auth.is_locked(user) or user.token_version != version
    ):  # revoked since (issue 14)
        raise Unauthorized("账号已停用或被锁定，请重新登录", code="auth.token_invalid")
    principal = auth.principal_of(user)  # role and unit as they are now
    access, ttl = auth.issue_staff_token(principal, version=user.token_version)
    new_refresh, _ = auth.issue_staff_token(principal, kind="refresh", version=user.token_version)
    return TokenOut(access_token=access, expires_in=ttl, refresh_token=new_refresh)


@router.get("/auth/me", response_model=MeOut, tags=["auth"], summary="当前用户或平台")
async def me(principal: OutsidePrincipal) -> MeOut:
    return MeOut(
        subject=principal.subject,
        role=str(principal.role),
        unit_id=principal.unit_id,
        name=principal.name,
        scopes=sorted(principal.scopes),
        app_key=principal.app_key,
    )


@router.get("/units", response_model=list[UnitOut], tags=["units"], summary="单位名录")
async def list_units(
    session: DbSession, principal: UnitReader, kind: Annotated[str | None, Query(max_length=20)] = None
) -> list[Unit]:
    query = select(Unit).order_by(Unit.kind, Unit.id)
    if kind:
        query = query.where(Unit.kind == kind)
    return list(await session.scalars(query))


@router.get("/units/{unit_id}", response_model=UnitOut, tags=["units"], summary="单位详情")
async def get_unit(
    unit_id: Annotated[str, Path(max_length=40)], session: DbSession, principal: UnitReader
) -> Unit:
    unit = await session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"单位 {unit_id} 不存在", code="unit.not_found")
    return unit


internal = APIRouter(prefix="/internal", route_class=UnitOfWorkRoute, include_in_schema=False)


@internal.get("/units", response_model=list[UnitOut])
async def internal_units(session: DbSession, principal: CurrentPrincipal) -> list[Unit]:
    """The unit directory for other services (they check unit ids against it)."""
    return list(await session.scalars(select(Unit).order_by(Unit.id)))


# the rest of /api/v1: forwarded paths never reach this app (``forwarding``); any other
# path is refused after the caller is known, so an outsider learns nothing of the routes
unknown_paths = APIRouter()


@unknown_paths.api_route(
    "/api/v1/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
)
async def unknown_path(request: Request, principal: OutsidePrincipal) -> None:
    raise NotFound(f"路径 {request.url.path} 不存在", code="route.not_found")
