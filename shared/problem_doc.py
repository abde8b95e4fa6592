"""The error body (RFC 9457 problem details rendered by ``shared.errors``) as a pydantic
model, for documenting error responses in the OpenAPI. A service subclasses ``Problem``
to add the extra members its refusals carry (``allowed_events``, ``objection_ids`` …)."""

from __future__ import annotations

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
