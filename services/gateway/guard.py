"""Who is calling: a staff bearer token or a signed platform request; rate limits; scopes.

Hot path of a signed request: headers → cached credential → one HMAC (key schedule
pre-computed) → one Redis round trip (nonce SET NX + rate-limit INCR/EXPIRE, pipelined).
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from typing import Annotated

from fastapi import Depends, Request
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.gateway import auth
from services.gateway.appkeys import app_keys
from services.gateway.config import gateway_settings
from services.gateway.crypto import METHODS, SHA256, body_digest, string_to_sign
from services.gateway.scopes import ROLE_SCOPES, holds
from shared.errors import Forbidden, ServiceUnavailable, TooManyRequests, Unauthorized
from shared.identity import Principal
from shared.settings import get_settings

_NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_redis: Redis | None = None


def redis() -> Redis:
    global _redis
    if _redis is None:
        _redis = Redis.from_url(get_settings().redis_url, socket_connect_timeout=2,
                                socket_timeout=2, max_connections=256)
    return _redis


async def close_redis() -> None:
    global _redis
    if _redis is not None:
        await _redis.aclose()
        _redis = None


def _redis_down(exc: Exception) -> ServiceUnavailable:
    return ServiceUnavailable("网关的 Redis 暂不可用，无法校验请求，请稍后重试",
                              code="service.unavailable", service="redis")


def _window() -> tuple[int, int]:
    now = int(time.time())
    return now // 60, 60 - now % 60


def _limited(count: int, limit: int, retry_after: int, who: str) -> None:
    if count > limit:
        raise TooManyRequests(f"请求过于频繁（每分钟上限 {limit} 次），请 {retry_after} 秒后重试",
                              code="rate.limited", headers={"Retry-After": str(retry_after)},
                              limit=limit, limited=who)


def _audit_ctx(request: Request):
    return request.scope.get("kpp.audit")


def _refuse(code: str, detail: str, **extra) -> Unauthorized:
    return Unauthorized(detail, code=code, **extra)


async def signed_principal(request: Request) -> Principal:
    h = request.headers
    key, ts, nonce, sig = (h.get("x-app-key"), h.get("x-timestamp"), h.get("x-nonce"),
                           h.get("x-signature"))
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
    now = int(time.time())
    try:
        skew = abs(now - int(ts))
    except ValueError:
        skew = None
    if skew is None or skew > settings.max_skew_s:
        raise _refuse("auth.timestamp_skew",
                      f"请求时间戳与服务器时间相差超过 {settings.max_skew_s} 秒（应为 Unix 秒）",
                      server_time=now)
    body = await request.body()
    message = string_to_sign(request.method, request.scope["path"],
                             request.scope["query_string"].decode("latin-1"), ts, nonce,
                             body_digest(body))
    if not cred.signer.verify(message, sig, algorithm):
        raise _refuse("auth.signature_invalid", "签名校验失败：请核对签名串与应用密钥")
    minute, retry_after = _window()
    rate_key = f"kpp:gw:rl:a:{cred.key}:{minute}"
    try:
        pipe = redis().pipeline(transaction=False)
        pipe.set(f"kpp:gw:nonce:{cred.key}:{nonce}", b"1", nx=True, ex=settings.nonce_ttl_s)
        pipe.incr(rate_key)
        pipe.expire(rate_key, 61, nx=True)
        fresh, count, _ = await pipe.execute()
    except (RedisError, OSError) as exc:
        raise _redis_down(exc) from exc
    if not fresh:
        raise _refuse("auth.nonce_replayed", "该随机串（X-Nonce）已使用过：请求被视为重放")
    _limited(count, cred.rate_per_min, retry_after, "app_key")
    return cred.principal


_staff: dict[Principal, Principal] = {}


async def bearer_principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("请先登录：缺少 Bearer 访问令牌，或使用应用标识签名访问",
                           code="auth.token_missing", headers={"WWW-Authenticate": "Bearer"})
    claimed = auth.verify_staff_token(token)
    principal = _staff.get(claimed)
    if principal is None:  # roles map to scopes here, so a mapping change applies at once
        principal = replace(claimed, scopes=ROLE_SCOPES.get(claimed.role, frozenset()))
        if len(_staff) > 10_000:
            _staff.clear()
        _staff[claimed] = principal
    minute, retry_after = _window()
    rate_key = f"kpp:gw:rl:u:{principal.subject}:{minute}"
    try:
        pipe = redis().pipeline(transaction=False)
        pipe.incr(rate_key)
        pipe.expire(rate_key, 61, nx=True)
        count, _ = await pipe.execute()
    except (RedisError, OSError) as exc:
        raise _redis_down(exc) from exc
    _limited(count, gateway_settings().user_rate_per_min, retry_after, "user")
    return principal


async def outside_principal(request: Request) -> Principal:
    """The caller behind an outside request; recorded for the audit of this request."""
    if "x-app-key" in request.headers:
        principal = await signed_principal(request)
    else:
        principal = await bearer_principal(request)
    ctx = _audit_ctx(request)
    if ctx is not None:
        ctx.principal = principal
    return principal


OutsidePrincipal = Annotated[Principal, Depends(outside_principal)]


def check_scope(principal: Principal, scope: str) -> None:
    if not holds(principal.scopes, scope):
        raise Forbidden(f"缺少权限范围 {scope}，无权访问该接口", code="auth.scope_missing",
                        required_scope=scope)


def require_scope(*alternatives: str):
    """A dependency: the caller must hold one of the scopes."""

    async def dependency(principal: OutsidePrincipal) -> Principal:
        if not any(holds(principal.scopes, s) for s in alternatives):
            check_scope(principal, alternatives[0])
        return principal

    return Depends(dependency)
