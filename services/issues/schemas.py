"""Request bodies of the issues service; every field described in Chinese (reaches OpenAPI)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Kind = Literal[
    "eia", "land", "forest_land", "water", "energy_saving", "safety_review", "funds", "utilities", "other"
]
KIND_ZH = {
    "eia": "环评",
    "land": "用地",
    "forest_land": "林地",
    "water": "水土保持/取水",
    "energy_saving": "节能审查",
    "safety_review": "安全评价",
    "funds": "资金",
    "utilities": "水电气等要素保障",
    "other": "其他",
}
Source = Literal[
    "enterprise_report", "consultation_meeting", "supervision", "approval_overdue", "progress_report"
]
SOURCE_ZH = {
    "enterprise_report": "企业反映",
    "consultation_meeting": "会诊会议",
    "supervision": "督查发现",
    "approval_overdue": "审批超期",
    "progress_report": "进度报送",
}
Channel = Literal["phone", "on_site", "online", "letter"]
CHANNEL_ZH = {"phone": "电话回访", "on_site": "上门回访", "online": "网上回访", "letter": "书面回访"}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Attachment(Strict):
    name: str = Field(min_length=1, max_length=200, description="文件名")
    content_type: str = Field(max_length=100, description="文件类型（MIME）")
    size: int = Field(ge=0, le=50 * 1024 * 1024, description="大小（字节，≤ 50 MB）")
    sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$", max_length=64, description="内容 SHA-256 摘要（小写十六进制）"
    )
    file_id: str | None = Field(None, max_length=64, description="项目库文件存储中的文件 ID")


class IssueIn(Strict):
    project_id: uuid.UUID = Field(description="所属项目 ID（须在项目库中）")
    kind: Kind = Field(
        description="问题类型：eia 环评 / land 用地 / forest_land 林地 / water 水 / "
        "energy_saving 节能审查 / safety_review 安全评价 / funds 资金 / "
        "utilities 水电气 / other 其他"
    )
    description: str = Field(min_length=4, max_length=4000, description="问题描述")
    source: Source = Field(
        description="来源：enterprise_report 企业反映 / consultation_meeting "
        "会诊会议 / supervision 督查 / approval_overdue 审批超期 / "
        "progress_report 进度报送"
    )
    attachments: list[Attachment] = Field(default_factory=list, max_length=20, description="附件（元数据）")


class AnalyseIn(Strict):
    finding: str = Field(min_length=2, max_length=4000, description="研判意见")
    within_authority: bool = Field(description="是否在责任单位职权范围内（否则需上级或其他部门帮办）")
    responsible_unit_id: str | None = Field(None, max_length=40, description="建议责任单位（领办）")


class SubTaskIn(Strict):
    title: str = Field(min_length=2, max_length=200, description="子任务内容")
    unit_id: str = Field(max_length=40, description="承办单位（须为责任单位或帮办单位）")
    person: str = Field(min_length=1, max_length=60, description="具体责任人")
    deadline: date = Field(description="子任务完成期限（不得早于今天）")


class DecomposeIn(Strict):
    responsible_unit_id: str | None = Field(None, max_length=40, description="责任单位（领办）")
    responsible_leader: str | None = Field(None, min_length=1, max_length=60, description="责任领导")
    responsible_person: str | None = Field(None, min_length=1, max_length=60, description="责任人")
    solution: str | None = Field(None, min_length=2, max_length=4000, description="解决措施")
    time_limit_days: int | None = Field(None, ge=1, le=250, description="办理时限（工作日）")
    deadline: date | None = Field(None, description="按日期指定的办结期限（与时限二选一，不得早于今天）")
    assisting_unit_ids: list[str] | None = Field(None, max_length=20, description="帮办单位")
    sub_tasks: list[SubTaskIn] | None = Field(None, max_length=50, description="子任务（给出即整体替换）")


class AssignIn(Strict):
    note: str | None = Field(None, max_length=2000, description="交办说明")


class ProgressIn(Strict):
    note: str = Field(min_length=2, max_length=4000, description="进展情况")
    sub_task_id: uuid.UUID | None = Field(None, description="所涉子任务")
    sub_task_done: bool = Field(False, description="该子任务是否已完成")


class RequestCloseIn(Strict):
    summary: str = Field(min_length=2, max_length=4000, description="办结情况（申请销号）")


class VisitIn(Strict):
    visitor: str = Field(min_length=1, max_length=60, description="回访人")
    channel: Channel = Field(description="回访方式：phone 电话 / on_site 上门 / online 网上 / letter 书面")
    visited_on: date = Field(description="回访日期（不得晚于今天）")
    satisfied: bool = Field(description="企业是否满意")
    words: str = Field(min_length=1, max_length=4000, description="企业意见原话")


class ReopenIn(Strict):
    reason: str = Field(min_length=2, max_length=2000, description="重新打开的理由")


ACTION_BODIES: dict[str, type[BaseModel]] = {
    "analyse": AnalyseIn,
    "decompose": DecomposeIn,
    "assign": AssignIn,
    "report_progress": ProgressIn,
    "request_close": RequestCloseIn,
    "record_visit": VisitIn,
    "reopen": ReopenIn,
}


class MeetingIn(Strict):
    title: str = Field(min_length=2, max_length=200, description="会议名称")
    held_on: date = Field(description="会议日期")
    chair: str = Field(min_length=1, max_length=60, description="主持人")
    attendee_unit_ids: list[Annotated[str, Field(max_length=40)]] = Field(
        default_factory=list, max_length=40, description="参会单位"
    )
    issue_ids: list[uuid.UUID] = Field(default_factory=list, max_length=100, description="议题（问题 ID）")


class AgendaIn(Strict):
    issue_ids: list[uuid.UUID] = Field(min_length=1, max_length=100, description="加入议程的问题")


class DecisionIn(Strict):
    issue_id: uuid.UUID = Field(description="议题（问题 ID）")
    decision: str = Field(min_length=2, max_length=4000, description="会议决定")
