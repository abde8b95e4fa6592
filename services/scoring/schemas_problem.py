"""The error body (RFC 9457 problem details) as documented in the OpenAPI, and `problems()`.

Every refusal is rendered by `shared.errors` as `application/problem+json`; `problems(...)`
builds the `responses=` entries of a route from the codes it can raise, so the OpenAPI
names each status with its stable `code`s (the schema is also listed under
`application/json`, where FastAPI places a response model).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_MEDIA = "application/problem+json"


class ProblemField(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(description="出错字段（路径以点分隔，如 items.0.weight；请求头名；body.xxx）")
    type: str | None = Field(None, description="校验错误类型（仅请求格式校验错误给出，如 missing）")
    message: str = Field(description="错误说明（中文）")


class ScoringProblem(BaseModel):
    """问题详情（RFC 9457）：每一种拒绝都有稳定的 code 与中文 detail。"""

    model_config = ConfigDict(extra="forbid", title="ScoringProblem")

    type: str = Field(description="问题类型 URI（https://kpp.example.gov.cn/problems/<code>）")
    title: str = Field(description="HTTP 状态标题（英文）")
    status: int = Field(description="HTTP 状态码")
    code: str = Field(description="稳定的错误代码，如 assessment.already_published")
    detail: str = Field(description="错误说明（中文）")
    instance: str | None = Field(None, description="出错的请求路径")
    fields: list[ProblemField] | None = Field(None, description="出错的字段（有字段出错时给出）")
    objection_ids: list[str] | None = Field(
        None, description="未处理异议的 ID（assessment.open_objections 时给出）"
    )
    weight_sum: str | None = Field(None, description="各项权重之和（rubric.weights_not_100 时给出）")
    status_now: str | None = Field(
        None, description="交办事项当前状态（assignment.already_completed / not_completed 时给出）"
    )
    service: str | None = Field(None, description="不可用的服务（service.* 时给出）")


_TITLES = {
    403: "无权执行此操作",
    404: "资源不存在",
    409: "与当前状态冲突",
    422: "请求数据无效",
    503: "依赖的服务暂不可用",
}


def problems(**codes: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries: problems(e409="assessment.already_published …", e422="month.invalid …")."""
    out: dict[int | str, dict[str, Any]] = {}
    for key, listed in codes.items():
        status = int(key.removeprefix("e"))
        out[status] = {
            "model": ScoringProblem,
            "description": f"{_TITLES[status]}（问题详情，code：{listed}）",
            "content": {PROBLEM_MEDIA: {"schema": {"$ref": "#/components/schemas/ScoringProblem"}}},
        }
    return out


def file_response(media_type: str, what: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` entry of an endpoint answering a file."""
    return {200: {"content": {media_type: {}}, "description": what}}
