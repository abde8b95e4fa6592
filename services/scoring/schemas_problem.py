"""The error body (RFC 9457 problem details) as documented in the OpenAPI, and `problems()`.

Every refusal is rendered by `shared.errors` as `application/problem+json`; `problems(...)`
builds the `responses=` entries of a route from the codes it can raise, so the OpenAPI
names each status with its stable `code`s (the schema is also listed under
`application/json`, where FastAPI places a response model).
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from shared.problem_doc import Problem

PROBLEM_MEDIA = "application/problem+json"


class ScoringProblem(Problem):
    """问题详情（RFC 9457），含考核服务拒绝时的附加成员。"""

    model_config = ConfigDict(extra="forbid", title="ScoringProblem")

    objection_ids: list[str] | None = Field(
        None, description="未处理异议的 ID（assessment.open_objections 时给出）"
    )
    weight_sum: str | None = Field(None, description="各项权重之和（rubric.weights_not_100 时给出）")
    status_now: str | None = Field(
        None, description="交办事项当前状态（assignment.already_completed / not_completed 时给出）"
    )


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
