"""Request and response models of the scoring service (every field described in Chinese)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Source = Literal["leaders_meeting", "consultation", "problem", "supervision", "other"]
Kind = Literal["township", "department"]


class AssignmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task: str = Field(min_length=2, max_length=2000, description="交办任务内容")
    unit_id: str = Field(max_length=40, description="责任单位（乡镇或部门）ID")
    deadline: date = Field(description="办结期限（日期）")
    issued_on: date | None = Field(None, description="交办函日期；缺省为今天")
    source: Source = Field(
        description="交办来源：leaders_meeting 领导调度会 / consultation 会诊 / "
        "problem 问题 / supervision 督查 / other 其他"
    )
    source_ref: str | None = Field(None, max_length=120, description="来源编号（会议纪要号、问题 ID 等）")
    letter_no: str | None = Field(None, max_length=60, description="交办函文号")
    project_id: uuid.UUID | None = Field(None, description="相关项目 ID（可选）")


class CompletionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    completed_on: date | None = Field(None, description="办结日期；缺省为今天")
    note: str | None = Field(None, max_length=2000, description="办结情况说明")


class JudgementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verdict: Literal["accepted", "badly_done"] = Field(
        description="重点办评定：accepted 认可办结 / badly_done 办理不力（计入通报）"
    )
    reason: str | None = Field(None, max_length=2000, description="评定理由（办理不力时必填）")


class AssignmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")

    id: uuid.UUID = Field(description="交办函 ID")
    letter_no: str | None = Field(description="交办函文号")
    task: str = Field(description="交办任务")
    unit_id: str = Field(description="责任单位")
    issued_on: date = Field(description="交办日期")
    deadline: date = Field(description="办结期限")
    source: str = Field(description="交办来源")
    source_ref: str | None = Field(description="来源编号")
    project_id: uuid.UUID | None = Field(description="相关项目")
    status: str = Field(
        description="状态：open 办理中 / completed 已报办结 / accepted 已认可 / badly_done 办理不力"
    )
    completed_on: date | None = Field(description="报办结日期")
    completion_note: str | None = Field(description="办结说明")
    judged_on: date | None = Field(description="评定日期")
    judgement_reason: str | None = Field(description="评定理由")
    version: int = Field(description="版本号")


class SummonsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")

    id: uuid.UUID = Field(description="约谈 ID")
    notice_id: uuid.UUID = Field(description="引起约谈的通报")
    assignment_id: uuid.UUID = Field(description="交办函")
    unit_id: str = Field(description="被约谈单位")
    month: str = Field(description="考核月份")
    level: str = Field(description="级别：deputy 分管县领导约谈 / principal 主要领导约谈")
    summoner: str = Field(description="约谈人（职务与姓名）")
    summoner_name: str | None = Field(description="约谈领导姓名（取自单位名录，重点办维护；未载为 null）")
    summoned: str = Field(description="被约谈人（单位主要负责人）")
    issued_on: date = Field(description="约谈决定日期")
    due_by: date = Field(description="应于此日前约谈（5 个工作日内）")
    held_on: date | None = Field(description="约谈日期")
    outcome: str | None = Field(description="约谈结果")
    status: str = Field(description="状态：scheduled 待约谈 / held 已约谈")


class NoticeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")

    id: uuid.UUID = Field(description="通报 ID")
    assignment_id: uuid.UUID = Field(description="交办函")
    unit_id: str = Field(description="被通报单位")
    month: str = Field(description="考核月份")
    ordinal: int = Field(description="该交办事项第几次被通报")
    reason: str = Field(description="原因：unfinished 逾期未办结 / badly_done 办理不力")
    level: str = Field(
        description="级别：notice 通报 / deputy_summons 通报并分管领导约谈 / "
        "principal_summons 通报并主要领导约谈"
    )
    issued_on: date = Field(description="通报日期")


class NoticeWithSummons(NoticeOut):
    level_name: str = Field(description="级别（中文）")
    task: str = Field(description="交办任务")
    summons: SummonsOut | None = Field(None, description="随此通报的约谈")


class UnitNotices(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit_id: str = Field(description="单位")
    notices: list[NoticeWithSummons] = Field(description="通报（按月份）")
    summons: list[SummonsOut] = Field(description="约谈")


class SummonsOutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    held_on: date = Field(description="约谈日期")
    outcome: str = Field(min_length=2, max_length=4000, description="约谈结果与整改要求")


class RubricItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: str = Field(description="考核指标键，如 starts、investment_completed、notices")
    weight: Decimal = Field(gt=0, le=100, description="权重（各项之和为 100）")
    method: Literal["rank", "ratio_to_top"] = Field(
        description="计分方法：rank 按名次赋分 / ratio_to_top 与最优值之比"
    )


class RubricIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Kind = Field(description="适用对象：township 乡镇 / department 部门")
    items: list[RubricItem] = Field(description="评分项")
    note: str | None = Field(None, max_length=2000, description="修订说明")


class RubricItemOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: str = Field(description="考核指标键，如 starts、investment_completed、notices")
    weight: str = Field(description="权重（小数字符串；各项之和为 100）")
    method: Literal["rank", "ratio_to_top"] = Field(
        description="计分方法：rank 按名次赋分 / ratio_to_top 与最优值之比"
    )


class RubricOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")

    id: uuid.UUID = Field(description="细则 ID")
    kind: str = Field(description="适用对象")
    version: int = Field(description="版本号")
    items: list[RubricItemOut] = Field(description="评分项")
    note: str | None = Field(description="修订说明")
    created_by: str = Field(description="制定人")
    created_at: datetime = Field(description="制定时间")


class ObjectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit_id: str | None = Field(None, description="提出异议的单位；缺省为本人单位")
    item: str | None = Field(None, max_length=40, description="有异议的指标键（可选）")
    reason: str = Field(min_length=2, max_length=4000, description="异议理由")


class ResolutionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accepted: bool = Field(description="是否采纳")
    resolution: str = Field(min_length=2, max_length=4000, description="处理意见")


class ObjectionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")

    id: uuid.UUID = Field(description="异议 ID")
    month: str = Field(description="考核月份")
    unit_id: str = Field(description="单位")
    item: str | None = Field(description="指标")
    reason: str = Field(description="异议理由")
    status: str = Field(description="状态：open 待处理 / accepted 已采纳 / rejected 未采纳")
    resolution: str | None = Field(description="处理意见")
    raised_by: str = Field(description="提出人")
    resolved_by: str | None = Field(description="处理人")
