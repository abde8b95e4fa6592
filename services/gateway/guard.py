"""Who is calling: a staff bearer token or a signed platform request; rate limits; scopes.

Hot path of a signed request: headers → cached credential → one HMAC (key schedule
pre-computed) → one Redis round trip (one script: nonce SET NX + rate-limit INCR/EXPIRE NX,
see ``hotredis``). The checks take plain values, so the FastAPI dependency (the gateway's
own paths) and the forwarding proxy (``forwarding``) run the very same code.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.gateway import accounts, auth
from services.gateway.appkeys import app_keys
from services.gateway.config import gateway_settings
from services.gateway.crypto import METHODS, SHA256, body_digest, string_to_sign
from services.gateway.hotredis import SIGNED_SCRIPT, USER_SCRIPT, HotRedis, PyRedisScripts
from services.gateway.scopes import ROLE_SCOPES, holds
from shared import clock
from shared.errors import Forbidden, ServiceUnavailable, TooManyRequests, Unauthorized
from shared.identity import Principal
from shared.settings import get_settings

_NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_redis: Redis | None = None
_hot: HotRedis | PyRedisScripts | None = None


def redis() -> Redis:
    global _redis
    if _redis is None:
        _redis = Redis.from_url(
            get_settings().redis_url, socket_connect_timeout=2, socket_timeout=2, max_connections=256
        )
    return _redis


def hot_redis() -> HotRedis | PyRedisScripts:
    """The client for the per-request scripts (nonce, rate limits)."""
    global _hot
    if _hot is None:
        url = get_settings().redis_url
        _hot = HotRedis(url) if url.startswith("redis://") else PyRedisScripts(redis())
    return _hot


async def close_redis() -> None:
    global _redis, _hot
    if _hot is not None:
        await _hot.close()
        _hot = None
    if _redis is not None:
        await _redis.aclose()
        _redis = None


def _redis_down(exc: Exception) -> ServiceUnavailable:
    return ServiceUnavailable(
        "网关的 Redis 暂不可用，无法校验请求，请稍后重试", code="service.unavailable", service="redis"
    )


def _window() -> tuple[int, int]:
    now = clock.wall_timestamp()
    return now // 60, 60 - now % 60


def _limited(count: int, limit: int, retry_after: int, who: str) -> None:
    if count > limit:
        raise TooManyRequests(
            f"请求过于频繁（每分钟上限 {limit} 次），请 {retry_after} 秒后重试",
            code="rate.limited",
            headers={"Retry-After": str(retry_after)},
            limit=limit,
            limited=who,
        )


def _refuse(code: str, detail: str, **extra) -> Unauthorized:
    return Unauthorized(detail, code=code, **extra)


class Headers(Protocol):
    def get(self, key: str, default: Any = None, /) -> Any: ...


async def signed_principal_of(
    h: Headers, method: str, path: str, raw_query: str, read_body: Callable[[], Awaitable[bytes]]
) -> Principal:
    """A platform's signed request (``h``: lower-case header names → first value)."""
    key, ts, nonce, sig = (h.get("x-app-key"), h.get("x-timestamp"), h.get("x-nonce"), h.get("x-signature"))
    missing = [n for n, v in (("X-Timestamp", ts), ("X-Nonce", nonce), ("X-Signature", sig)) if not v]
    if missing:
        raise _refuse("auth.signature_invalid", f"签名请求缺少请求头：{'、'.join(missing)}")
    algorithm = h.get("x-signature-method", SHA256).upper()
    if algorithm not in METHODS:
        raise _refuse("auth.signature_invalid", f"不支持的签名算法 {algorithm}（可用 HMAC-SHA256、HMAC-SM3）")
    if not _NONCE_RE.match(nonce):
        raise _refuse("auth.signature_invalid", "X-Nonce 应为 8–64 位字母、数字、- 或 _")
    cred = await app_keys.get(key)
    if cred is None:
        raise _refuse("auth.app_key_invalid", "应用标识（X-App-Key）无效或已停用")
    settings = gateway_settings()
    now = clock.wall_timestamp()
    try:
        skew = abs(now - int(ts))
    except ValueError:
        skew = None
    if skew is None or skew > settings.max_skew_s:
        raise _refuse(
            "auth.timestamp_skew",
            f"请求时间戳与服务器时间相差超过 {settings.max_skew_s} 秒（应为 Unix 秒）",
            server_time=now,
        )
    body = await read_body()
    message = string_to_sign(method, path, raw_query, ts, nonce, body_digest(body))
    if not cred.signer.verify(message, sig, algorithm):
        raise _refuse("auth.signature_invalid", "签名校验失败：请核对签名串与应用密钥")
    minute, retry_after = _window()
    try:  # one round trip: nonce SET NX EX + rate-limit INCR / EXPIRE NX
        fresh, count = await hot_redis().eval(
            SIGNED_SCRIPT,
            (f"kpp:gw:nonce:{cred.key}:{nonce}", f"kpp:gw:rl:a:{cred.key}:{minute}"),
            (settings.nonce_ttl_s, 61),
        )
    except (RedisError, OSError) as exc:
        raise _redis_down(exc) from exc
    if not fresh:
        raise _refuse("auth.nonce_replayed", "该随机串（X-Nonce）已使用过：请求被视为重放")
    _limited(count, cred.rate_per_min, retry_after, "app_key")
    return cred.principal


_staff: dict[Principal, Principal] = {}


async def bearer_principal_of(header: str) -> Principal:
    """A staff user's bearer token (``header``: the Authorization value, or "")."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(
            "请先登录：缺少 Bearer 访问令牌，或使用应用标识签名访问",
            code="auth.token_missing",
            headers={"WWW-Authenticate": "Bearer"},
        )
    claimed, version = auth.verify_staff_token_version(token)
    # a disabled, moved or reset account's older tokens stop within seconds (issue 14)
    if not await accounts.token_still_valid(claimed.subject.removeprefix("user:"), version):
        raise Unauthorized(
            "账号已停用或权限已变更，请重新登录",
            code="auth.token_revoked",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = _staff.get(claimed)
    if principal is None:  # roles map to scopes here, so a mapping change applies at once
        principal = replace(claimed, scopes=ROLE_SCOPES.get(claimed.role, frozenset()))
        if len(_staff) > 10_000:
            _staff.clear()
        _staff[claimed] = principal
    minute, retry_after = _window()
    try:  # one round trip: rate-limit INCR / EXPIRE NX
        count = await hot_redis().eval(USER_SCRIPT, (f"kpp:gw:rl:u:{principal.subject}:{minute}",), (61,))
    except (RedisError, OSError) as exc:
        raise _redis_down(exc) from exc
    _limited(count, gateway_settings().user_rate_per_min, retry_after, "user")
    return principal


async def caller_of(
    h: Headers, method: str, path: str, raw_query: str, read_body: Callable[[], Awaitable[bytes]]
) -> Principal:
    """The caller behind an outside request: a signed platform or a staff user."""
    if h.get("x-app-key") is not None:
        return await signed_principal_of(h, method, path, raw_query, read_body)
    return await bearer_principal_of(h.get("authorization", ""))


async def outside_principal(request: Request) -> Principal:
    """The caller behind an outside request; recorded for the audit of this request."""
    principal = await caller_of(
        request.headers,
        request.method,
        request.scope["path"],
        request.scope["query_string"].decode("latin-1"),
        request.body,
    )
    ctx = request.scope.get("kpp.audit")
    if ctx is not None:
        ctx.principal = principal
    return principal


OutsidePrincipal = Annotated[Principal, Depends(outside_principal)]


def check_scope(principal: Principal, scope: str) -> None:
    if not holds(principal.scopes, scope):
        raise Forbidden(
            f"缺少权限范围 {scope}，无权访问该接口", code="auth.scope_missing", required_scope=scope
        )


def require_scope(*alternatives: str):
    """A dependency: the caller must hold one of the scopes."""

    async def dependency(principal: OutsidePrincipal) -> Principal:
        if not any(holds(principal.scopes, s) for s in alternatives):
            check_scope(principal, alternatives[0])
        return principal

    return Depends(dependency)
