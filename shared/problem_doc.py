"""The error body (RFC 9457 problem details rendered by ``shared.errors``) as a pydantic
model, for documenting error responses in the OpenAPI. A service subclasses ``Problem``
to add the extra members its refusals carry (``allowed_events``, ``objection_ids`` …).

``install(app)`` (called by ``create_app`` for every service and the gateway) makes each
operation document the problem+json errors it can answer; the gateway adds its own
(429, 504 …) to the merged document (issue 14).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field


class ProblemField(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(description="出错的字段（路径以点分隔，如 body.steps.0.limit_days；请求头名）")
    message: str = Field(description="该字段的错误说明（中文）")
    type: str | None = Field(None, description="校验错误类型（仅请求格式校验失败时有，如 missing）")


class Problem(BaseModel):
    """问题详情（RFC 9457）：每一种拒绝都有稳定的 code 与中文 detail。"""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="问题类型 URI（https://kpp.example.gov.cn/problems/<code>）")
    title: str = Field(description="问题标题（英文短语，如 Conflict）")
    status: int = Field(description="HTTP 状态码")
    code: str = Field(description="稳定的错误代码，如 issue.not_ready_for_assignment")
    detail: str = Field(description="错误说明（中文）")
    instance: str | None = Field(None, description="出错的请求路径")
    fields: list[ProblemField] | None = Field(None, description="出错的字段（有字段出错时给出）")
    service: str | None = Field(None, description="暂不可用的下游服务（503 时，如 registry）")


PROBLEM_MEDIA = "application/problem+json"
PROBLEM_COMPONENT = "ProblemDetails"
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
# the probes answer anyone, take no input, and only /readyz refuses (503 when not ready)
PROBES = {"/healthz": [], "/readyz": [503]}
_METHODS = WRITE_METHODS | {"get", "head", "options"}

# what each status means wherever the platform answers it, with its usual codes
ERROR_ZH: dict[int, str] = {
    401: "未认证：缺少、过期或已吊销的访问令牌（auth.*）",
    403: "无权执行此操作：角色、单位或授权范围不符（auth.forbidden 及各服务的 *.forbidden）",
    404: "路径中的资源不存在（*.not_found）",
    409: "与当前状态冲突，或 Idempotency-Key 冲突/结果未知（*.conflict、idempotency.*）",
    412: "If-Match 与当前版本不符（<资源>.stale，带 current_version），请重新 GET 后再改",
    413: "请求体超过上限（request.too_large）",
    422: "请求数据无效：字段格式、取值范围、NUL 字符、If-Match 格式等（request.invalid、"
    "request.nul_character、precondition.invalid 等，fields 指出出错字段）",
    428: "缺少必填的 If-Match（precondition.required）",
    429: "请求过于频繁（rate.limited），按 Retry-After 重试",
    503: "数据库或下游服务暂不可用（service.database、service.unavailable），按 Retry-After 重试",
    504: "下游服务超时（gateway.timeout）；带 Idempotency-Key 的写入结果未知时重试会得到 409",
}


def problem_response(status: int, ref: str = f"#/components/schemas/{PROBLEM_COMPONENT}") -> dict[str, Any]:
    return {
        "description": f"{ERROR_ZH[status]}（RFC 9457 问题详情）",
        "content": {PROBLEM_MEDIA: {"schema": {"$ref": ref}}},
    }


def _has_problem(response: dict[str, Any]) -> bool:
    return PROBLEM_MEDIA in (response.get("content") or {})


def add_problems(operation: dict[str, Any], statuses: Iterable[int], ref: str | None = None) -> None:
    """Give ``operation`` a problem+json response for each status it does not document yet.

    A status documented without problem+json (FastAPI's default 422 ``HTTPValidationError``,
    which the platform never answers) is replaced; one a service documented itself is kept.
    """
    responses = operation.setdefault("responses", {})
    for status in statuses:
        current = responses.get(str(status))
        if current is None or not _has_problem(current):
            responses[str(status)] = problem_response(status, *((ref,) if ref else ()))


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in (doc.get("paths") or {}).items():
        for method, operation in item.items():
            if method in _METHODS and isinstance(operation, dict):
                yield path, method, operation


def _if_match(operation: dict[str, Any]) -> dict[str, Any] | None:
    """The operation's If-Match parameter (``shared.preconditions``), if it takes one."""
    for p in operation.get("parameters") or []:
        if p.get("in") == "header" and p.get("name", "").lower() == "if-match":
            return p
    return None


def statuses_of(
    path: str, method: str, operation: dict[str, Any], *, open_prefixes: tuple[str, ...] = ()
) -> list[int]:
    """The errors an operation can answer: 422 and 503 everywhere, 401 (every path needs an
    identity; a login answers 401 to a wrong password), 403 unless the path is open to
    anyone (``open_prefixes``), 404 where a path id is looked up, 409 on writes, 412 where
    If-Match is taken and 428 where it is required (``shared.preconditions``)."""
    if path in PROBES:
        return PROBES[path]
    statuses = [401, 422, 503]
    if not (open_prefixes and path.startswith(open_prefixes)):
        statuses.append(403)
    if "{" in path:
        statuses.append(404)
    if method in WRITE_METHODS:
        statuses.append(409)
    if_match = _if_match(operation)
    if if_match is not None:
        statuses.append(412)
        if if_match.get("required"):
            statuses.append(428)
    return sorted(statuses)


def document_problems(doc: dict[str, Any], *, open_prefixes: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every operation of ``doc`` documents its problem+json errors (issue 14); in place."""
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    schemas[PROBLEM_COMPONENT] = schema
    for path, method, operation in operations(doc):
        add_problems(operation, statuses_of(path, method, operation, open_prefixes=open_prefixes))
    return doc


def install(app: FastAPI, *, open_prefixes: tuple[str, ...] = ()) -> None:
    """``app.openapi()`` documents the problems of every route (FastAPI caches the result)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document_problems(generate(), open_prefixes=open_prefixes)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
