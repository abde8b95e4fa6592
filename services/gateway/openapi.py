"""One OpenAPI document at the gateway: its own paths plus every service's public paths.

Each service's ``/openapi.json`` is fetched when the document is first asked for and kept
for ``openapi_ttl_s`` (10 s if a service did not answer, so it appears once it is up).
Component names are prefixed with the service (``registry.ProjectOut``) and every
``$ref`` rewritten, so equal names in two services never clash; the fields keep the
Chinese descriptions the services give them.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from fastapi import FastAPI

from services.gateway.config import gateway_settings
from services.gateway.routes import owner_of
from shared.errors import KPPError
from shared.http import SERVICE_NAMES_ZH, service_client
from shared.problem_doc import PROBES, WRITE_METHODS, add_problems, operations

DOWNSTREAM = ("registry", "approvals", "issues", "scoring")
_REF = "#/components/schemas/"
SIGNATURE_HELP = (
    "政务平台以应用标识签名访问：请求头 `X-App-Key`、`X-Timestamp`（Unix 秒，与服务器相差不超过 300 秒）、"
    "`X-Nonce`（8–64 位，一次有效）、`X-Signature` = 十六进制 HMAC-SHA256(应用密钥, "
    "METHOD \\n PATH \\n 排序后的查询串 \\n 时间戳 \\n 随机串 \\n sha256(请求体))；"
    "国密选项：`X-Signature-Method: HMAC-SM3`。工作人员以 `Authorization: Bearer <令牌>` 访问。"
)


def _rewrite(node: Any, prefix: str) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_REF):
                out[key] = _REF + prefix + value[len(_REF) :]
            else:
                out[key] = _rewrite(value, prefix)
        return out
    if isinstance(node, list):
        return [_rewrite(v, prefix) for v in node]
    return node


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "幂等键（1–200 位可打印 ASCII）：同一调用方以同一键重试写请求，得到第一次的结果；"
    "键对应另一请求、第一次仍在执行或其结果未知（曾 504）时答 409",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
}


def _gateway_problems(doc: dict[str, Any], forwarded: set[str]) -> None:
    """What the gateway itself may answer on top of each operation's own errors (issue 14):
    auth, rate limit, body size; on forwarded paths also the service's 503/504 and the
    Idempotency-Key conflicts."""
    for path, method, operation in operations(doc):
        if path in PROBES:
            continue  # answered before authentication and rate limits
        statuses = [401, 429, 503]
        if not path.startswith("/api/v1/auth/"):
            statuses.append(403)
        if method in WRITE_METHODS:
            statuses += [409, 413]
        if path in forwarded:
            statuses.append(504)
            if method in WRITE_METHODS:
                params = operation.setdefault("parameters", [])
                if not any(p.get("name", "").lower() == "idempotency-key" for p in params):
                    params.append(dict(IDEMPOTENCY_KEY))
        add_problems(operation, statuses)


def merge(own: dict[str, Any], services: dict[str, dict[str, Any] | None]) -> dict[str, Any]:
    doc = copy.deepcopy(own)
    doc["info"]["description"] = (doc["info"].get("description") or "") + "\n\n" + SIGNATURE_HELP
    paths = doc.setdefault("paths", {})
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    status: dict[str, str] = {}
    for service, spec in services.items():
        if spec is None:
            status[service] = "unavailable"
            continue
        status[service] = "ok"
        prefix = f"{service}."
        for name, schema in (spec.get("components", {}).get("schemas") or {}).items():
            schemas[prefix + name] = _rewrite(schema, prefix)
        for path, item in (spec.get("paths") or {}).items():
            if owner_of(path) != service:
                continue  # probes, /internal and paths another service owns
            item = _rewrite(item, prefix)
            for operation in item.values():
                if isinstance(operation, dict) and "operationId" in operation:
                    operation["operationId"] = prefix + operation["operationId"]
                    operation.setdefault("tags", []).append(SERVICE_NAMES_ZH[service])
            paths[path] = item
    doc["components"]["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "工作人员访问令牌"},
        "appSignature": {
            "type": "apiKey",
            "in": "header",
            "name": "X-App-Key",
            "description": SIGNATURE_HELP,
        },
    }
    doc["security"] = [{"bearer": []}, {"appSignature": []}]
    doc["x-kpp-services"] = status
    _gateway_problems(doc, forwarded={p for p in paths if owner_of(p)})
    return doc


class MergedOpenAPI:
    def __init__(self) -> None:
        self._doc: dict[str, Any] | None = None
        self._expires = 0.0

    async def document(self, app: FastAPI) -> dict[str, Any]:
        now = time.monotonic()
        if self._doc is not None and self._expires > now:
            return self._doc
        fetched: dict[str, dict[str, Any] | None] = {}
        for service in DOWNSTREAM:
            try:
                resp = await service_client.get(service, "/openapi.json")
                fetched[service] = resp.json() if resp.ok else None
            except (KPPError, ValueError):
                fetched[service] = None
        self._doc = merge(app.openapi(), fetched)
        complete = all(v is not None for v in fetched.values())
        self._expires = now + (gateway_settings().openapi_ttl_s if complete else 10)
        return self._doc


merged_openapi = MergedOpenAPI()
