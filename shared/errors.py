"""The error hierarchy, rendered as RFC 9457 problem details with a stable ``code``.

Every refusal a user can meet is a ``KPPError`` with a machine ``code`` and a Chinese
``detail``; the handlers below turn them (and FastAPI's own validation errors) into
``application/problem+json``. Nothing reaches the client as a bare 500 traceback.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("kpp.errors")


class KPPError(Exception):
    status = 400
    code = "request.bad"
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        fields: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.fields = fields or []
        self.headers = headers or {}
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://kpp.example.gov.cn/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.fields:
            body["fields"] = self.fields
        body.update(self.extra)
        return body


class InvalidInput(KPPError):
    status, code, title = 422, "request.invalid", "Unprocessable content"


class NotFound(KPPError):
    status, code, title = 404, "resource.not_found", "Not found"


class Conflict(KPPError):
    status, code, title = 409, "resource.conflict", "Conflict"


class PreconditionFailed(KPPError):
    status, code, title = 412, "resource.stale", "Precondition failed"


class PreconditionRequired(KPPError):
    status, code, title = 428, "precondition.required", "Precondition required"


class Unauthorized(KPPError):
    status, code, title = 401, "auth.unauthenticated", "Unauthorized"


class Forbidden(KPPError):
    status, code, title = 403, "auth.forbidden", "Forbidden"


class TooManyRequests(KPPError):
    status, code, title = 429, "rate.limited", "Too many requests"


class PayloadTooLarge(KPPError):
    status, code, title = 413, "request.too_large", "Payload too large"


class ServiceUnavailable(KPPError):
    status, code, title = 503, "service.unavailable", "Service unavailable"


class InternalError(KPPError):
    status, code, title = 500, "server.error", "Internal server error"


def database_unavailable() -> ServiceUnavailable:
    """The one answer for a database that cannot be reached (every service and the gateway)."""
    return ServiceUnavailable(
        "数据库暂时不可用，请稍后重试，未写入任何变更",
        code="service.database",
        service="database",
        headers={"Retry-After": "5"},
    )


def internal_error() -> InternalError:
    """The one answer for a fault nobody anticipated: no detail leaks, nothing was written."""
    return InternalError("服务器内部错误，请求未完成，未写入任何变更")


def problem_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


_HTTP_CODES = {
    400: ("request.bad", "请求格式不正确"),
    401: ("auth.unauthenticated", "未认证或身份令牌无效"),
    403: ("auth.forbidden", "无权执行此操作"),
    404: ("resource.not_found", "请求的路径或资源不存在"),
    405: ("request.method_not_allowed", "该路径不支持此请求方法"),
    413: ("request.too_large", "请求体过大"),
    415: ("request.unsupported_media_type", "不支持的请求内容类型"),
}

_PYDANTIC_ZH = {
    "missing": "必填项缺失",
    "json_invalid": "JSON 格式错误",
    "string_type": "应为字符串",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "bool_parsing": "应为布尔值",
    "date_from_datetime_parsing": "应为日期 YYYY-MM-DD",
    "date_parsing": "应为日期 YYYY-MM-DD",
    "datetime_parsing": "应为带时区的时间 ISO 8601",
    "uuid_parsing": "应为 UUID",
    "enum": "取值不在允许范围内",
    "literal_error": "取值不在允许范围内",
    "string_too_long": "字符串过长",
    "string_too_short": "字符串过短",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "extra_forbidden": "不允许的字段",
    "model_attributes_type": "应为对象",
    "dict_type": "应为对象",
    "list_type": "应为数组",
}


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        kind = err.get("type", "")
        ctx_err = (err.get("ctx") or {}).get("error")
        if kind in _PYDANTIC_ZH:
            message = _PYDANTIC_ZH[kind]
        elif ctx_err:  # our own validators raise ValueError with a Chinese message
            message = str(ctx_err)
        else:
            message = err.get("msg", "取值无效")
        out.append({"field": ".".join(loc), "type": err.get("type"), "message": message})
    return out


def _lacks_if_match(exc: RequestValidationError) -> bool:
    """A required If-Match (``shared.preconditions.IfMatchRequired``) that is absent: RFC 6585
    says 428, which tells the client to read the resource first, not that its body is wrong."""
    return any(
        err.get("type") == "missing"
        and [str(p).lower() for p in err.get("loc", ())] == ["header", "if-match"]
        for err in exc.errors()
    )


# SQLSTATE classes that are the client's fault (a value PostgreSQL cannot take):
# 22 data exception (numeric out of range, invalid datetime, NUL byte, string too long),
# 23 integrity (handled as 409 above), 2201x/22P0x invalid parameters
_CLIENT_SQLSTATE_CLASSES = ("22",)


def _sqlstate(orig: Any) -> str | None:
    for err in (orig, getattr(orig, "__cause__", None)):
        state = getattr(err, "sqlstate", None) or getattr(err, "pgcode", None)
        if isinstance(state, str):
            return state
    return None


def _from_database(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if module.startswith(("asyncpg", "sqlalchemy", "shared.db")):
            return True
        tb = tb.tb_next
    return False


def _unavailable(request: Request, database: bool):
    if database:
        err = database_unavailable()
    else:
        err = ServiceUnavailable(
            "依赖的服务暂时不可用，请稍后重试，未写入任何变更",
            code="service.unavailable",
            headers={"Retry-After": "5"},
        )
    return problem_response(503, err.body(request.url.path), err.headers)


def _database_problem(request: Request, orig: Any, invalidated: bool):
    """A value the database refused is the client's 422; anything else is a 503 naming it."""
    state = _sqlstate(orig)
    if state and state[:2] in _CLIENT_SQLSTATE_CLASSES and not invalidated:
        log.warning("database refused a value (%s): %s", state, orig)
        err = InvalidInput(
            "提交的某个值超出了可保存的范围或格式（如数值过大、日期无效、含有不可保存的字符），"
            "未写入任何变更",
            code="request.value_unstorable",
            fields=[{"field": "body", "type": f"sqlstate_{state}", "message": "取值无法保存"}],
        )
        return problem_response(422, err.body(request.url.path))
    log.error("database error (%s): %s", state, orig)
    return _unavailable(request, True)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KPPError)
    async def _kpp(request: Request, exc: KPPError):
        return problem_response(exc.status, exc.body(request.url.path), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        if _lacks_if_match(exc):
            err = PreconditionRequired(
                "此修改须带 If-Match 头（取自 GET 返回的 ETag），以免覆盖他人的修改",
                code="precondition.required",
                fields=[{"field": "If-Match", "message": "必填"}],
            )
            return problem_response(428, err.body(request.url.path))
        fields = _field_errors(exc)
        detail = "请求数据校验失败：" + "；".join(f"{f['field']}：{f['message']}" for f in fields)
        err = InvalidInput(detail, fields=fields)
        return problem_response(422, err.body(request.url.path))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        code, zh = _HTTP_CODES.get(exc.status_code, ("request.error", "请求失败"))
        detail = exc.detail if isinstance(exc.detail, str) and not exc.detail.isascii() else zh
        body = KPPError(detail, code=code).body(request.url.path)
        body.update(status=exc.status_code, title=str(exc.detail) if exc.detail else code)
        return problem_response(exc.status_code, body, getattr(exc, "headers", None))

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError):
        log.warning("integrity error: %s", exc.orig)
        err = Conflict("与已有数据冲突（唯一性或关联约束），未写入任何变更", code="resource.conflict")
        return problem_response(409, err.body(request.url.path))

    @app.exception_handler(DBAPIError)
    async def _dbapi(request: Request, exc: DBAPIError):
        return _database_problem(request, exc.orig, exc.connection_invalidated)

    @app.exception_handler(asyncpg.PostgresError)
    async def _asyncpg(request: Request, exc: asyncpg.PostgresError):
        # statements sent straight through asyncpg on a hot path (not wrapped by SQLAlchemy)
        if isinstance(exc, asyncpg.IntegrityConstraintViolationError):
            log.warning("integrity error: %s", exc)
            err = Conflict("与已有数据冲突（唯一性或关联约束），未写入任何变更", code="resource.conflict")
            return problem_response(409, err.body(request.url.path))
        return _database_problem(request, exc, False)

    @app.exception_handler(OSError)
    async def _os_error(request: Request, exc: OSError):
        # asyncpg's connect raises plain OSError (connection refused, unreachable host)
        log.error("connection error on %s %s: %r", request.method, request.url.path, exc)
        return _unavailable(request, _from_database(exc))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(500, internal_error().body(request.url.path))
