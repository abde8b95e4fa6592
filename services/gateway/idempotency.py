"""``Idempotency-Key`` on writes: the first response is kept a day and a retry gets it.

Keys are per caller (staff user or app key). The same key with another request (method,
path, query or body) is a 409; a retry while the first is still running is a 409 with
``Retry-After``. A 5xx answer from the service is not kept, so the client may retry it;
but a call the gateway gave up on (504, or a connection cut mid-call) may have committed:
the gateway keeps waiting for its answer in the background and stores it under the key,
and until then a retry is a 409 ``idempotency.outcome_unknown`` (issue 14).
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
        raise InvalidInput(
            "Idempotency-Key 应为 1–200 位可打印 ASCII 字符",
            code="idempotency.key_invalid",
            fields=[{"field": "Idempotency-Key", "message": "格式不正确"}],
        )
    return f"kpp:gw:idem:{principal.subject}:{key}"


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    return hashlib.sha256(f"{method}\n{path}\n{query}\n".encode() + body).hexdigest()


async def begin(principal: Principal, key: str, fp: str) -> tuple[str, Stored | None]:
    """Claim the key (→ None: go ahead) or return the stored first response."""
    rkey = _key(principal, key)
    try:
        pending_s = max(_PENDING_TTL_S, int(gateway_settings().upstream_timeout_s) + 5)
        claimed = await redis().set(rkey, json.dumps({"fp": fp}), nx=True, ex=pending_s)
        raw = None if claimed else await redis().get(rkey)
    except (RedisError, OSError) as exc:
        raise ServiceUnavailable(
            "网关的 Redis 暂不可用，请稍后重试", code="service.unavailable", service="redis"
        ) from exc
    if claimed or raw is None:
        return rkey, None
    data = json.loads(raw)
    if data["fp"] != fp:
        raise Conflict("该 Idempotency-Key 已用于另一个不同的请求", code="idempotency.key_reused")
    if data.get("unknown"):
        raise Conflict(
            "使用该 Idempotency-Key 的请求已超时，结果尚未确定；为避免重复办理，"
            "请先查询该变更是否已生效，或稍后重试以取得首次结果",
            code="idempotency.outcome_unknown",
            headers={"Retry-After": "5"},
        )
    if "status" not in data:
        raise Conflict(
            "使用该 Idempotency-Key 的请求仍在处理中，请稍后重试",
            code="idempotency.in_progress",
            headers={"Retry-After": "1"},
        )
    return rkey, Stored(data["status"], data["headers"], base64.b64decode(data["body"]))


async def mark_unknown(rkey: str, fp: str) -> None:
    """The call was cut off (504): it may have committed. Until its answer arrives (or for
    the key's whole life if it never does) a retry is refused, never run a second time."""
    try:
        await redis().set(
            rkey, json.dumps({"fp": fp, "unknown": True}), ex=gateway_settings().idempotency_ttl_s
        )
    except (RedisError, OSError):
        pass


async def finish(
    rkey: str, fp: str, status: int, headers: dict[str, str], body: bytes, *, settled: bool = False
) -> None:
    try:
        if status >= 500 and settled:
            return  # a late 5xx answer: the outcome stays unknown, the key keeps refusing
        if status >= 500:
            await redis().delete(rkey)
            return
        value = json.dumps(
            {"fp": fp, "status": status, "headers": headers, "body": base64.b64encode(body).decode()}
        )
        await redis().set(rkey, value, ex=gateway_settings().idempotency_ttl_s)
    except (RedisError, OSError):  # the write happened; only the replay memory is lost
        pass


async def release(rkey: str) -> None:
    try:
        await redis().delete(rkey)
    except (RedisError, OSError):
        pass
