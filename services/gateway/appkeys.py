"""Platform app keys: issue, rotate, revoke; a short in-process cache for the hot path."""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.config import gateway_settings
from services.gateway.crypto import Signer, derive_secret, fingerprint, new_salt
from services.gateway.models import AppKey, pipeline
from services.gateway.scopes import ADMIN_SCOPES, ALL_SCOPES
from services.gateway.singleflight import SingleFlight
from shared import clock
from shared.db import sessionmaker
from shared.errors import InvalidInput, NotFound
from shared.identity import Principal, Role

PLATFORMS = {
    "service_hall": "政务服务大厅",
    "finance": "财政平台",
    "province": "省级平台",
    "other": "其他平台",
}
PLATFORM_SCOPES = frozenset(ALL_SCOPES) - frozenset(ADMIN_SCOPES)
_KEY_RE = re.compile(r"^[A-Za-z0-9_.-]{4,40}$")
_CACHE_TTL_S = 30.0
_MISS_TTL_S = 5.0


@dataclass(frozen=True, slots=True)
class AppCredential:
    """What the hot path needs about one app key, computed once per cache period."""

    key: str
    rate_per_min: int
    signer: Signer
    principal: Principal


def credential_of(row: AppKey) -> AppCredential:
    secret = derive_secret(row.key, row.salt)
    principal = Principal(
        subject=f"app:{row.key}",
        role=Role.platform,
        name=row.name,
        scopes=frozenset(row.scopes),
        app_key=row.key,
    )
    rate = row.rate_limit_per_min or gateway_settings().app_rate_per_min
    return AppCredential(row.key, rate, Signer(secret), principal)


class AppKeyCache:
    """Key → credential for 30 s (unknown keys for 5 s): no database read per request.

    A revoked or rotated key stops working on every replica within the cache period;
    on the replica that changed it, at once.
    """

    def __init__(self) -> None:
        self._items: dict[str, tuple[AppCredential | None, float]] = {}
        self._reads = SingleFlight()  # requests finding the entry expired share one read
        self._changes = 0  # invalidations so far: a read that started before one is not kept

    async def get(self, key: str) -> AppCredential | None:
        hit = self._items.get(key)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        return await self._reads.run(key, lambda: self._read(key))

    async def _read(self, key: str) -> AppCredential | None:
        changes = self._changes
        async with sessionmaker()() as session:
            row = await session.get(AppKey, key)
        cred = credential_of(row) if row is not None and row.active else None
        if len(self._items) > 10_000:
            self._items.clear()
        if changes == self._changes:
            self._items[key] = (cred, time.monotonic() + (_CACHE_TTL_S if cred else _MISS_TTL_S))
        return cred

    def invalidate(self, key: str) -> None:
        self._changes += 1
        self._items.pop(key, None)
        self._reads.forget(key)


app_keys = AppKeyCache()


def _check_scopes(scopes: list[str]) -> list[str]:
    unknown = sorted(set(scopes) - PLATFORM_SCOPES)
    if unknown:
        raise InvalidInput(
            f"不支持的权限范围：{'、'.join(unknown)}",
            code="app_key.scope_unknown",
            fields=[{"field": "scopes", "message": "未知或不可授予平台的权限"}],
        )
    return sorted(set(scopes))


def snapshot(row: AppKey) -> dict:
    return {
        "key": row.key,
        "name": row.name,
        "platform": row.platform,
        "scopes": list(row.scopes),
        "rate_limit_per_min": row.rate_limit_per_min,
        "active": row.active,
        "secret_fp": row.secret_fp,
    }


async def create_app_key(
    session: AsyncSession,
    *,
    principal: Principal,
    name: str,
    platform: str,
    scopes: list[str],
    rate_limit_per_min: int | None = None,
    key: str | None = None,
    salt: str | None = None,
) -> tuple[AppKey, str]:
    """A new key and its secret (shown once; only the salt and a fingerprint are kept)."""
    if platform not in PLATFORMS:
        raise InvalidInput(
            f"平台类型 {platform} 不受支持",
            code="app_key.platform_unknown",
            fields=[{"field": "platform", "message": "取值不在允许范围内"}],
        )
    key = key or f"ak_{secrets.token_hex(10)}"
    if not _KEY_RE.match(key):
        raise InvalidInput(
            "应用标识格式不正确",
            code="app_key.invalid",
            fields=[{"field": "key", "message": "4–40 位字母、数字或 _.-"}],
        )
    salt = salt or new_salt()
    secret = derive_secret(key, salt)
    row = AppKey(
        key=key,
        name=name,
        platform=platform,
        scopes=_check_scopes(scopes),
        salt=salt,
        secret_fp=fingerprint(secret),
        rate_limit_per_min=rate_limit_per_min,
        active=True,
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    await pipeline.audit(
        session, principal, entity="app_key", entity_id=key, action="create", after=snapshot(row)
    )
    return row, secret


async def get_app_key(session: AsyncSession, key: str) -> AppKey:
    row = await session.get(AppKey, key)
    if row is None:
        raise NotFound(f"应用标识 {key} 不存在", code="app_key.not_found")
    return row


async def rotate_app_key(
    session: AsyncSession, *, principal: Principal, key: str, reason: str | None
) -> tuple[AppKey, str]:
    """A new secret for the key: the old one stops working (after the cache period)."""
    row = await get_app_key(session, key)
    before = snapshot(row)
    row.salt = new_salt()
    secret = derive_secret(key, row.salt)
    row.secret_fp = fingerprint(secret)
    row.rotated_at = clock.now()
    await session.flush()
    await session.refresh(row)
    await pipeline.audit(
        session,
        principal,
        entity="app_key",
        entity_id=key,
        action="rotate",
        before=before,
        after=snapshot(row),
        reason=reason,
    )
    app_keys.invalidate(key)
    return row, secret


async def update_app_key(
    session: AsyncSession, *, principal: Principal, key: str, changes: dict, reason: str | None
) -> AppKey:
    row = await get_app_key(session, key)
    before = snapshot(row)
    if "scopes" in changes and changes["scopes"] is not None:
        row.scopes = _check_scopes(changes["scopes"])
    if changes.get("active") is not None:
        row.active = changes["active"]
    if "rate_limit_per_min" in changes:
        row.rate_limit_per_min = changes["rate_limit_per_min"]
    if changes.get("name"):
        row.name = changes["name"]
    await session.flush()
    await pipeline.audit(
        session,
        principal,
        entity="app_key",
        entity_id=key,
        action="update",
        before=before,
        after=snapshot(row),
        reason=reason,
    )
    app_keys.invalidate(key)
    return row
