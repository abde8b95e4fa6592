"""``Idempotency-Key`` on writes: the first response is kept a day and a retry gets it.

Keys are per caller (staff user or app key). The same key with another request (method,
path, query or body) is a 409; a retry while the first is still running is a 409 with
``Retry-After``. A 5xx is not kept, so the client may retry it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass

from redis.exceptions import RedisError

from services.gateway.config import gateway_settings
from services.gateway.guard import redis
from shared.errors import Conflict, InvalidInput, ServiceUnavailable
from shared.identity import Principal

HEADER = "idempotency-key"
_PENDING_TTL_S = 60


@dataclass
class Stored:
    status: int
    headers: dict[str, str]
    body: bytes


def _key(principal: Principal, key: str) -> str:
    if not (1 <= len(key) <= 200) or not key.isascii() or not key.isprintable():
        raise InvalidInput("Idempotency-Key 应为 1–200 位可打印 ASCII 字符",
                           code="idempotency.key_invalid",
                           fields=[{"field": "Idempotency-Key", "message": "格式不正确"}])
    return f"kpp:gw:idem:{principal.subject}:{key}"


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    return hashlib.sha256(f"{method}\n{path}\n{query}\n".encode() + body).hexdigest()


async def begin(principal: Principal, key: str, fp: str) -> tuple[str, Stored | None]:
    """Claim the key (→ None: go ahead) or return the stored first response."""
    rkey = _key(principal, key)
    try:
        claimed = await redis().set(rkey, json.dumps({"fp": fp}), nx=True, ex=_PENDING_TTL_S)
        raw = None if claimed else await redis().get(rkey)
    except (RedisError, OSError) as exc:
        raise ServiceUnavailable("网关的 Redis 暂不可用，请稍后重试", code="service.unavailable",
                                 service="redis") from exc
    if claimed or raw is None:
        return rkey, None
    data = json.loads(raw)
    if data["fp"] != fp:
        raise Conflict("该 Idempotency-Key 已用于另一个不同的请求", code="idempotency.key_reused")
    if "status" not in data:
        raise Conflict("使用该 Idempotency-Key 的请求仍在处理中，请稍后重试",
                       code="idempotency.in_progress", headers={"Retry-After": "1"})
    return rkey, Stored(data["status"], data["headers"], base64.b64decode(data["body"]))


async def finish(rkey: str, fp: str, status: int, headers: dict[str, str], body: bytes) -> None:
    try:
        if status >= 500:
            await redis().delete(rkey)
            return
        value = json.dumps({"fp": fp, "status": status, "headers": headers,
                            "body": base64.b64encode(body).decode()})
        await redis().set(rkey, value, ex=gateway_settings().idempotency_ttl_s)
    except (RedisError, OSError):  # the write happened; only the replay memory is lost
        pass


async def release(rkey: str) -> None:
    try:
        await redis().delete(rkey)
    except (RedisError, OSError):
        pass
