"""Response models of the approvals service: what each endpoint returns, field by field,
with its Chinese name (they reach the gateway's merged OpenAPI).

They describe the bodies built by ``calendar_store.year_json``, ``calendar_admin``,
``kinds.kind_json``, ``cases.case_summary`` / ``cases.clock_view`` and
``events_intake.post_event``. Most routes attach them for documentation only
(``responses=``), so the bodies stay exactly as those functions build them;
``tests/approvals/test_openapi_shapes.py`` validates real bodies against them
(``extra="forbid"``: a field the model lacks fails the test).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.approvals.schemas import EventType, PauseReason
from shared.problem_doc import Problem as SharedProblem

CaseState = Literal[
    "new",
    "submitted",
    "awaiting_supplement",
    "running",
    "paused",
    "warning",
    "overdue",
    "applicant",
    "done",
    "rejected",
]
CasePhase = Literal[
    "new", "submitted", "awaiting_supplement", "running", "paused", "applicant", "done", "rejected"
]
SegmentState = Literal["pending", "running", "paused", "warning", "overdue", "applicant", "done", "rejected"]
CASE_STATE_ZH = (
    "计时状态：new 已开立未收件；submitted 已收件待受理；awaiting_supplement 待补正（受理前）；"
    "running 计时中；paused 暂停计时（补正或法定事由）；warning 预警（已用达预警比例或剩余天数）；"
    "overdue 超期；applicant 申请人时间（上一环节已办结，待申请人申请下一环节，不计时）；"
    "done 已办结；rejected 不予许可/退件"
)
CASE_PHASE_ZH = (
    "办理阶段（不含预警/超期）：new 已开立；submitted 已收件；awaiting_supplement 待补正（受理前）；"
    "running 办理中；paused 暂停；applicant 申请人时间（待申请下一环节）；done 已办结；"
    "rejected 不予许可/退件"
)
SEGMENT_STATE_ZH = (
    "状态：pending 未开始；running 计时中；paused 暂停计时；warning 预警；overdue 超期；"
    "applicant 申请人时间（仅全链条：环节之间，不计时）；done 已完成；rejected 不予许可（仅全链条）"
)


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- problems (RFC 9457) -----------------------------------------------------------------------
class Problem(SharedProblem):
    """问题详情（RFC 9457），含审批事件被拒绝时的附加成员。"""

    state: str | None = Field(
        None, description="案件当时的状态（事件不被允许时，如 new、running:construction_permit）"
    )
    allowed_events: list[EventType] | None = Field(
        None, description="该状态下允许的事件类型（事件不被允许时）"
    )
    event_type: EventType | None = Field(None, description="被拒绝的事件类型（事件不被允许时）")
    event_id: str | None = Field(None, description="相关事件 id（事件不被允许或事件 id 重复使用时）")


PROBLEM_ZH = {
    401: "未认证：缺少或无效的访问令牌/内部身份令牌",
    403: "无权执行此操作",
    404: "资源不存在",
    409: "与当前状态或已有数据冲突",
    422: "请求数据校验失败或不符合业务规则",
    503: "依赖的服务暂不可用",
}


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """The model's JSON schema with its ``$defs`` inlined (no dangling local references)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(defs[ref.removeprefix("#/$defs/")])
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)


PROBLEM_SCHEMA = _inline(Problem.model_json_schema())


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the error statuses a route can answer (problem+json)."""
    return {
        s: {
            "description": f"{PROBLEM_ZH[s]}（RFC 9457 问题详情，含稳定的 code）",
            "content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}},
        }
        for s in (401, *statuses)
    }


# -- the calendar (R15) ------------------------------------------------------------------------
class CalendarYearOut(Out):
    year: int = Field(description="年份")
    off_days: list[dt.date] = Field(description="休息日（法定节假日，含假期内的周末），升序")
    working_days: list[dt.date] = Field(description="调休上班日（周末补班），升序")
    official: bool = Field(description="是否为国务院办公厅公布的正式安排（否则为暂定）")
    source: str = Field(description="数据来源")
    stored: bool = Field(description="是否已存储（否：未存储的年份按暂定数据计算）")
    updated_at: dt.datetime | None = Field(None, description="最后更新时间（仅已存储的年份有）")
    updated_by: str | None = Field(None, description="最后更新人（仅已存储的年份有）")
    revision: int | None = Field(None, description="日历修订号（仅已存储的年份有）")
    off_day_count: int = Field(description="休息日数（不含普通周末）")
    working_day_count: int = Field(description="调休上班日数")
    total_working_days: int = Field(description="全年工作日总数")


class RecomputedOut(Out):
    checked_cases: int = Field(description="检查的未办结案件数")
    changed_cases: int = Field(description="到期日因此改变的案件数")


class CalendarChangeOut(CalendarYearOut):
    recomputed: RecomputedOut = Field(description="未办结案件时限重算结果")


class AddWorkingDaysOut(Out):
    start: dt.date = Field(description="起算日（不计入）")
    days: int = Field(description="工作日数")
    date: dt.date = Field(description="第 N 个工作日")
    provisional: bool = Field(description="是否落在尚无正式放假安排的年份（暂定）")
    convention: str = Field(description="计数规则说明")


# -- kinds (R16, R17, R21) ---------------------------------------------------------------------
class StepOut(Out):
    code: str = Field(description="环节代码")
    name: str = Field(description="环节名称")
    limit_days: int = Field(description="办理时限（工作日）")
    agency_unit_id: str = Field(description="责任部门（单位 id）")


class KindOut(Out):
    code: str = Field(description="审批类型代码")
    name: str = Field(description="审批类型名称")
    category: Literal["chain", "three_zeros"] = Field(
        description="类别：chain 审批链条；three_zeros 水电气“三零”接入服务"
    )
    steps: list[StepOut] = Field(description="按顺序的办理环节")
    total_limit_days: int = Field(description="全链条时限（工作日）")
    max_total_days: int | None = Field(description="全链条时限的政策上限（工作日；无上限为 null）")
    steps_limit_sum: int = Field(description="各环节时限之和（工作日）")
    warn_share: str = Field(description="预警比例（已用时限占比，小数字符串，如 0.8 或 0.800）")
    warn_days_left: int = Field(description="剩余 N 个工作日时提醒")
    supplement_window_days: int = Field(description="补正告知期限（收件后工作日）")
    builtin: bool = Field(description="是否内置类型")
    version: int = Field(description="版本号（每次调整加一）")


class KindList(Out):
    items: list[KindOut] = Field(description="审批类型（按代码排序）")


# -- cases (R16–R20) ---------------------------------------------------------------------------
class AssistantOut(Out):
    name: str = Field(description="专人协助：帮办代办员姓名")
    phone: str | None = Field(description="联系电话")
    unit_id: str | None = Field(description="所在单位")


class ThreeZerosOut(Out):
    zero_visit: bool = Field(description="零上门：企业无需到现场或窗口办理")
    zero_approval: bool = Field(description="零审批：接入无需行政审批")
    zero_cost: bool = Field(description="零投资：企业不承担接入工程费用")
    note: str | None = Field(description="说明")
    utility_unit_id: str = Field(description="承办接入的公用事业单位（单位名录）")


class CaseSummary(Out):
    id: uuid.UUID = Field(description="案件 id")
    project_id: uuid.UUID = Field(description="项目 id（项目库）")
    project_code: str = Field(description="全国投资项目代码")
    project_name: str | None = Field(description="项目名称")
    unit_id: str | None = Field(description="项目所属乡镇/部门")
    kind: str = Field(description="审批类型代码")
    kind_name: str = Field(description="审批类型名称")
    state: CaseState = Field(description=CASE_STATE_ZH)
    phase: CasePhase = Field(description=CASE_PHASE_ZH)
    current_step: str | None = Field(
        description="当前环节代码（办理中、暂停、待受理，或申请人时间中待申请的下一环节）"
    )
    received_on: dt.date | None = Field(description="收件日")
    accepted_on: dt.date | None = Field(description="第一环节受理日")
    due_date: dt.date | None = Field(
        description="全链条到期日：各环节已计工作日之和达到时限之日，按当前环节持续计时推算"
        "（暂停中、申请人时间中为 null）"
    )
    step_due_date: dt.date | None = Field(description="当前环节到期日（按工作日计算）")
    due_provisional: bool = Field(description="到期日是否落在暂定日历年份（正式安排公布后重算）")
    completed_on: dt.date | None = Field(description="办结日")
    total_limit_days: int = Field(description="全链条时限（工作日）")
    project_type: Literal["park_industrial", "transport_infrastructure", "other"] = Field(
        description="项目类型（由项目库的类别和标签确定）：park_industrial 园区工业；"
        "transport_infrastructure 交通基础设施；other 其他"
    )
    acceptance_mode: Literal["standard", "tolerance", "credit_commitment"] = Field(
        description="受理方式：standard 常规；tolerance 容缺受理；credit_commitment 信用承诺"
    )
    missing_items: list[str] = Field(description="容缺或承诺后补的材料")
    missing_items_due: dt.date | None = Field(description="后补材料的承诺期限")
    missing_items_supplied_on: dt.date | None = Field(description="后补材料补齐日")
    missing_items_overdue: bool = Field(description="后补材料是否逾期未补齐")
    fast_track: bool = Field(description="是否绿色通道")
    assistant: AssistantOut | None = Field(description="绿色通道的专人协助")
    fast_track_basis: Literal["key_project", "office_decision"] | None = Field(
        description="进入绿色通道的依据：key_project 重点项目（开立时自动）；office_decision 重点办决定"
    )
    three_zeros: ThreeZerosOut | None = Field(description="“三零”服务事实（仅三零接入类型）")
    next_threshold_at: dt.datetime | None = Field(description="下一个预警/超期时点（无则为 null）")
    version: int = Field(description="版本号（每次变更加一）")


class CaseListOut(Out):
    items: list[CaseSummary] = Field(description="案件（按开立时间倒序）")
    total: int = Field(description="总数")
    page: int = Field(description="页码")
    page_size: int = Field(description="每页条数")


class WarningDates(Out):
    share: dt.date | None = Field(None, description="已用时限达预警比例之日（如 80%）")
    days_left: dt.date | None = Field(None, description="剩余 N 个工作日提醒之日")


class SegmentOut(Out):
    step_code: str | None = Field(description="环节代码（全链条为 null）")
    step_name: str = Field(description="环节名称（全链条为“全链条”）")
    agency_unit_id: str | None = Field(description="责任部门（全链条为 null）")
    limit_days: int = Field(description="时限（工作日）")
    started_on: dt.date | None = Field(description="起算日（不计入；未开始为 null）")
    completed_on: dt.date | None = Field(description="完成日")
    used_days: int = Field(description="已用工作日（不含暂停）")
    left_days: int = Field(description="剩余工作日（超期为负数）")
    due_date: dt.date | None = Field(description="到期日（按工作日计算；暂停中为 null）")
    due_provisional: bool = Field(description="到期日是否落在暂定日历年份")
    warning_dates: WarningDates = Field(description="预警日期（按预警原因）")
    state: SegmentState = Field(description=SEGMENT_STATE_ZH)
    on_time: bool | None = Field(description="是否按时完成（未完成为 null）")


class PauseOut(Out):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    reason: Literal["supplement"] | PauseReason = Field(
        description="暂停事由：supplement 补正材料；或配置的法定事由（默认行政许可法第四十五条："
        "hearing 听证、bidding 招标、auction 拍卖、inspection 检验、testing 检测、"
        "quarantine 检疫、appraisal 鉴定、expert_review 专家评审）"
    )
    reason_name: str = Field(description="暂停事由名称")
    step_code: str | None = Field(description="暂停时的环节代码")
    from_: dt.date = Field(alias="from", description="暂停日（自次日起不计时）")
    until: dt.date | None = Field(description="恢复日（含当日不计时；未恢复为 null）")
    evidence_ref: str | None = Field(description="依据文书编号")


class ApplicantTimeOut(Out):
    before_step: str = Field(description="下一环节代码（申请人尚待申请或已申请的环节）")
    from_: dt.date = Field(alias="from", description="上一环节办结日")
    until: dt.date | None = Field(description="申请人申请下一环节之日（尚未申请为 null）")
    working_days: int = Field(description="其间工作日数（仅供参考，不计入审批时限）")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class BudgetStep(Out):
    step_code: str = Field(description="环节代码")
    step_name: str = Field(description="环节名称")
    agency_unit_id: str = Field(description="责任部门")
    limit_days: int = Field(description="环节时限（工作日）")
    used_days: int = Field(description="已用工作日")
    share_of_chain_pct: str = Field(description="占全链条时限的百分比（一位小数字符串，如 15.0）")
    over_limit_days: int = Field(description="超出环节时限的工作日（未超为 0）")


class BudgetAgency(Out):
    agency_unit_id: str | None = Field(description="责任部门")
    limit_days: int = Field(description="该部门各环节时限合计（工作日）")
    used_days: int = Field(description="该部门已用工作日合计")
    steps: list[str] = Field(description="该部门负责的环节代码")
    share_of_chain_pct: str = Field(description="占全链条时限的百分比（一位小数字符串）")


class BudgetOut(Out):
    chain_limit_days: int = Field(description="全链条时限（工作日）")
    chain_used_days: int = Field(description="全链条已用工作日")
    by_step: list[BudgetStep] = Field(description="各环节用时")
    by_agency: list[BudgetAgency] = Field(description="各部门用时")


class HistoryEntry(Out):
    at: dt.datetime = Field(description="时间")
    actor: str = Field(description="操作人")
    actor_role: str = Field(description="操作人角色")
    action: str = Field(description="操作，如 create、event.accepted、deadline.recomputed")
    before: dict[str, Any] | None = Field(description="变更前")
    after: dict[str, Any] | None = Field(description="变更后")
    reason: str | None = Field(description="原因或备注")


class CaseView(CaseSummary):
    as_of: dt.date = Field(description="计算截至日（业务日期，Asia/Shanghai）")
    deemed_accepted: bool = Field(description="是否视为受理（收件后补正期限内未受理也未退回）")
    chain: SegmentOut = Field(description="全链条计时")
    steps: list[SegmentOut] = Field(description="各环节计时（按顺序）")
    pauses: list[PauseOut] = Field(description="暂停计时记录")
    applicant_time: list[ApplicantTimeOut] = Field(
        description="申请人时间：各环节办结至申请人申请下一环节之间（如施工期），不计入审批时限（R16）"
    )
    budget: BudgetOut = Field(description="时限使用：各环节、各部门占全链条的份额")
    history: list[HistoryEntry] = Field(description="审计记录（按时间顺序）")


# -- service-hall events (R16–R19) -------------------------------------------------------------
class EventRecord(Out):
    event_id: str = Field(description="事件 id（幂等键）")
    type: EventType = Field(description="事件类型")
    occurred_at: dt.datetime = Field(description="发生时间")
    step_code: str | None = Field(description="环节代码")
    reason: PauseReason | None = Field(description="暂停的法定事由")
    evidence_ref: str | None = Field(description="依据文书编号")
    note: str | None = Field(description="备注")
    received_at: dt.datetime = Field(description="登记时间")


class EventReply(Out):
    event: EventRecord = Field(description="已登记的事件")
    case: CaseSummary = Field(description="登记后的案件与计时")


class EventBatchItem(Out):
    index: int = Field(description="该事件在请求 events 中的序号（从 0 起）")
    case_id: uuid.UUID = Field(description="审批案件 id")
    event_id: str = Field(description="事件 id（幂等键）")
    status: int = Field(description="逐条结果：201 已登记，200 重复提交（返回首次结果），4xx 被拒绝")
    result: EventReply | None = Field(None, description="已登记或重复提交时：与逐条登记接口相同的答复")
    problem: Problem | None = Field(None, description="被拒绝时：问题详情（与逐条登记接口相同的 code）")


class EventBatchReply(Out):
    accepted: int = Field(description="本次新登记的事件数")
    replayed: int = Field(description="重复提交、返回首次结果的事件数")
    refused: int = Field(description="被拒绝的事件数（其余事件照常登记）")
    results: list[EventBatchItem] = Field(description="逐条结果，顺序与请求相同")
