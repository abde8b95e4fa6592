"""Staff accounts: administration (create, disable, move, reset) and token revocation.

Every change that alters what a user may do (disable, enable, role, unit, password reset)
raises the user's ``token_version``; a bearer token carries the version it was issued
with, and the gateway compares it with the account's current version, read again at most
every ``KPP_GATEWAY_ACCOUNT_RECHECK_S`` seconds (2). A disabled or moved user's token
therefore stops working within seconds, not at its expiry (issue 14).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway import auth
from services.gateway.config import gateway_settings
from services.gateway.models import Unit, User, pipeline
from services.gateway.singleflight import SingleFlight
from shared.db import get_engine
from shared.errors import Conflict, InvalidInput, NotFound
from shared.identity import Principal, Role

# username → (token_version, active, monotonic time the reading expires)
_state: dict[str, tuple[int, bool, float]] = {}
_reads = SingleFlight()  # requests finding the reading expired share one query


_changes = 0  # accounts this process changed so far: a read started before one is not kept


def forget(username: str) -> None:
    """This process changed the account: read it again at the next request."""
    global _changes
    _changes += 1
    _state.pop(username, None)
    _reads.forget(username)


async def token_still_valid(username: str, version: int) -> bool:
    """The account exists, is active and has not been revoked since the token was issued."""
    hit = _state.get(username)
    if hit is None or hit[2] <= time.monotonic():
        hit = await _reads.run(username, lambda: _read_account(username))
        if hit is None:
            return False
    return hit[1] and hit[0] == version


async def _read_account(username: str) -> tuple[int, bool, float] | None:
    changes = _changes
    async with get_engine().connect() as conn:
        row = (
            await conn.execute(
                text("SELECT token_version, active FROM gateway.users WHERE username = :u"),
                {"u": username},
            )
        ).first()
    if row is None:
        return None
    hit = (row[0], row[1], time.monotonic() + gateway_settings().account_recheck_s)
    if changes == _changes:
        if len(_state) > 50_000:
            _state.clear()
        _state[username] = hit
    return hit


def snapshot(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "name": user.name,
        "role": user.role,
        "unit_id": user.unit_id,
        "org_code": user.org_code,
        "active": user.active,
        "token_version": user.token_version,
    }


async def _user(session: AsyncSession, username: str) -> User:
    user = await session.scalar(select(User).where(User.username == username).with_for_update())
    if user is None:
        raise NotFound(f"用户 {username} 不存在", code="user.not_found")
    return user


async def _check_unit(session: AsyncSession, role: str, unit_id: str | None) -> None:
    if unit_id is not None and await session.get(Unit, unit_id) is None:
        raise InvalidInput(
            f"单位 {unit_id} 不在单位名录中",
            code="unit.unknown",
            fields=[{"field": "unit_id", "message": "不在单位名录中"}],
        )
    if role in (Role.township, Role.department) and unit_id is None:
        raise InvalidInput(
            "乡镇、部门用户须指定所属单位",
            code="user.unit_required",
            fields=[{"field": "unit_id", "message": "必填"}],
        )


def _may_grant(principal: Principal, role: str) -> None:
    # only an admin makes admins; the key office manages every other account
    if role == Role.admin and principal.role not in (Role.admin, Role.system):
        raise InvalidInput(
            "只有管理员可以设置管理员账号",
            code="user.role_not_grantable",
            fields=[{"field": "role", "message": "无权授予"}],
        )


def temporary_password() -> str:
    return "Kpp-" + secrets.token_urlsafe(12)


async def create_user(
    session: AsyncSession, *, principal: Principal, data: dict[str, Any]
) -> tuple[User, str]:
    _may_grant(principal, data["role"])
    await _check_unit(session, data["role"], data.get("unit_id"))
    if await session.scalar(select(User.id).where(User.username == data["username"])):
        raise Conflict(f"用户名 {data['username']} 已存在", code="user.exists")
    password = temporary_password()
    user = User(
        username=data["username"],
        name=data["name"],
        role=data["role"],
        unit_id=data.get("unit_id"),
        org_code=data.get("org_code"),
        active=True,
        failed_logins=0,
        token_version=0,
        password_hash=await asyncio.to_thread(auth.hash_password, password),
    )
    session.add(user)
    await session.flush()
    await pipeline.audit(
        session,
        principal,
        entity="user",
        entity_id=user.username,
        action="create",
        after=snapshot(user),
        reason=data.get("reason"),
    )
    return user, password


async def update_user(
    session: AsyncSession, *, principal: Principal, username: str, changes: dict[str, Any], reason: str | None
) -> User:
    """Disable/enable, move to another unit, change role or name; access changes revoke."""
    user = await _user(session, username)
    if user.role == Role.admin and principal.role != Role.admin:
        raise InvalidInput("只有管理员可以修改管理员账号", code="user.role_not_grantable")
    if "role" in changes:
        _may_grant(principal, changes["role"])
    if principal.subject == f"user:{username}" and changes.get("active") is False:
        raise InvalidInput(
            "不能停用自己的账号",
            code="user.self_disable",
            fields=[{"field": "active", "message": "不能停用自己"}],
        )
    before = snapshot(user)
    role = changes.get("role", user.role)
    unit = changes["unit_id"] if "unit_id" in changes else user.unit_id
    await _check_unit(session, role, unit)
    for name, value in changes.items():
        setattr(user, name, value)
    if any(before[k] != getattr(user, k) for k in ("role", "unit_id", "org_code", "active")):
        user.token_version += 1  # its tokens stop working within seconds
    if changes.get("active"):
        user.failed_logins, user.locked_until = 0, None
    await session.flush()
    await pipeline.audit(
        session,
        principal,
        entity="user",
        entity_id=username,
        action="update",
        before=before,
        after=snapshot(user),
        reason=reason,
    )
    forget(username)
    return user


async def reset_password(
    session: AsyncSession, *, principal: Principal, username: str, reason: str | None
) -> tuple[User, str]:
    user = await _user(session, username)
    if user.role == Role.admin and principal.role != Role.admin:
        raise InvalidInput("只有管理员可以重置管理员账号", code="user.role_not_grantable")
    password = temporary_password()
    user.password_hash = await asyncio.to_thread(auth.hash_password, password)
    user.token_version += 1
    user.failed_logins, user.locked_until = 0, None
    await session.flush()
    await pipeline.audit(
        session,
        principal,
        entity="user",
        entity_id=username,
        action="reset_password",
        after={"token_version": user.token_version},
        reason=reason,
    )
    forget(username)
    return user, password
