"""Request models of the approvals service (every field described in Chinese); the replies
are in ``schemas_out.py``."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

CODE_PATTERN = r"^[a-z][a-z0-9_]{1,59}$"
EventType = Literal[
    "submitted",
    "accepted",
    "supplement_requested",
    "supplement_received",
    "paused",
    "resumed",
    "step_completed",
    "completed",
    "rejected",
    "missing_items_supplied",
]
# policy R18: the reasons in force are configuration (approvals_settings().pause_reasons);
# an unknown one is refused at intake with approval_event.pause_reason_not_excluded
PauseReason = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$", max_length=40)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CalendarYearIn(Strict):
    off_days: list[date] = Field(description="休息日（法定节假日，含假期内的周末）", max_length=366)
    working_days: list[date] = Field(description="调休上班日（周末补班）", max_length=366)
    official: bool = Field(True, description="是否为国务院办公厅公布的正式安排")
    source: str = Field(description="数据来源，如“国办发明电〔2026〕X号”", min_length=1, max_length=200)
    reason: str | None = Field(None, description="更正原因（记入审计）", max_length=500)


class StepIn(Strict):
    code: str = Field(description="环节代码", pattern=CODE_PATTERN, max_length=60)
    name: str = Field(description="环节名称", min_length=1, max_length=100)
    limit_days: int = Field(description="办理时限（工作日）", ge=1, le=365)
    agency_unit_id: str = Field(description="责任部门（单位名录中的单位 id）", min_length=1, max_length=40)


class KindIn(Strict):
    code: str = Field(description="审批类型代码", pattern=CODE_PATTERN, max_length=60)
    name: str = Field(description="审批类型名称", min_length=1, max_length=200)
    category: Literal["chain", "three_zeros"] = Field(
        "chain", description="类别：chain 审批链条；three_zeros 水电气“三零”接入服务"
    )
    steps: list[StepIn] = Field(description="按顺序的办理环节", min_length=1, max_length=20)
    total_limit_days: int | None = Field(
        None, description="全链条时限（工作日），缺省为各环节时限之和", ge=1, le=730
    )
    warn_share: float | None = Field(None, description="预警比例（已用时限占比），缺省 0.8", gt=0, lt=1)
    warn_days_left: int | None = Field(None, description="剩余 N 个工作日时提醒，缺省 3", ge=0, le=30)
    supplement_window_days: int | None = Field(
        None, description="补正告知期限（收件后工作日），缺省 5", ge=1, le=30
    )


class KindUpdate(Strict):
    name: str | None = Field(None, description="审批类型名称", min_length=1, max_length=200)
    steps: list[StepIn] | None = Field(None, description="按顺序的办理环节", min_length=1, max_length=20)
    total_limit_days: int | None = Field(None, description="全链条时限（工作日）", ge=1, le=730)
    warn_share: float | None = Field(None, description="预警比例", gt=0, lt=1)
    warn_days_left: int | None = Field(None, description="剩余 N 个工作日提醒", ge=0, le=30)
    supplement_window_days: int | None = Field(None, description="补正告知期限", ge=1, le=30)
    reason: str | None = Field(None, description="修改原因（记入审计）", max_length=500)


class AssistantIn(Strict):
    name: str = Field(description="专人协助：帮办代办员姓名", min_length=1, max_length=60)
    phone: str | None = Field(None, description="联系电话", max_length=30)
    unit_id: str | None = Field(None, description="所在单位", max_length=40)


class ThreeZerosIn(Strict):
    zero_visit: bool = Field(True, description="零上门：企业无需到现场或窗口办理")
    zero_approval: bool = Field(True, description="零审批：接入无需行政审批")
    zero_cost: bool = Field(True, description="零投资：企业不承担接入工程费用")
    note: str | None = Field(None, description="说明（如某项未做到的原因）", max_length=500)


class CaseIn(Strict):
    project_id: uuid.UUID = Field(description="项目 id（项目库）")
    project_code: str | None = Field(None, description="全国投资项目代码（须与项目库一致）", max_length=40)
    kind: str = Field(description="审批类型代码，如 low_risk_small", max_length=60)
    step_limits: (
        dict[Annotated[str, StringConstraints(max_length=60)], Annotated[int, Field(ge=0, le=730)]] | None
    ) = Field(
        None, max_length=20, description="本案各环节时限调整（环节代码 → 工作日），合计不得超过全链条时限"
    )
    project_type: Literal["park_industrial", "transport_infrastructure", "other"] | None = Field(
        None,
        description="（已弃用）项目类型：由项目库的类别和标签确定；如填写须与项目库一致",
        json_schema_extra={"deprecated": True},
    )
    acceptance_mode: Literal["standard", "tolerance", "credit_commitment"] = Field(
        "standard", description="受理方式：常规、容缺受理、信用承诺"
    )
    missing_items: list[Annotated[str, StringConstraints(max_length=200)]] = Field(
        default_factory=list, description="容缺或承诺后补的材料（每项 ≤ 200 字）", max_length=50
    )
    missing_items_due: date | None = Field(None, description="后补材料的承诺期限")
    fast_track: bool = Field(
        False, description="是否进入绿色通道（快速通道）；重点项目开立时自动进入，项目须在项目库子库中"
    )
    assistant: AssistantIn | None = Field(None, description="绿色通道的专人协助")
    three_zeros: ThreeZerosIn | None = Field(
        None, description="“三零”服务事实（仅水电气“三零”接入类型；缺省为三项均已做到）"
    )


class FastTrackIn(Strict):
    fast_track: bool = Field(description="是否进入绿色通道")
    assistant: AssistantIn | None = Field(None, description="专人协助")
    reason: str | None = Field(None, description="原因（记入审计）", max_length=500)


class EventIn(Strict):
    event_id: str = Field(description="事件 id（政务服务大厅生成，幂等键）", min_length=1, max_length=100)
    type: EventType = Field(description="事件类型")
    occurred_at: AwareDatetime = Field(description="发生时间（带时区）")
    step_code: str | None = Field(None, description="环节代码（办结环节时）", max_length=60)
    reason: PauseReason | None = Field(
        None,
        description="暂停的法定事由代码（paused 时必填）：默认为行政许可法第四十五条所列 hearing 听证、"
        "bidding 招标、auction 拍卖、inspection 检验、testing 检测、quarantine 检疫、"
        "appraisal 鉴定、expert_review 专家评审；清单可配置",
    )
    evidence_ref: str | None = Field(
        None, description="依据文书编号（补正告知书、听证通知等；暂停/补正时必填）", max_length=200
    )
    note: str | None = Field(None, description="备注", max_length=1000)


# policy R16–R19: the service hall may send the events it has queued in one request
MAX_EVENT_BATCH = 100


class HallEventIn(EventIn):
    case_id: uuid.UUID = Field(description="审批案件 id")


class EventBatchIn(Strict):
    events: list[HallEventIn] = Field(
        description=f"办件事件（按发生顺序，逐条登记；至多 {MAX_EVENT_BATCH} 条，可涉及多个案件）",
        min_length=1,
        max_length=MAX_EVENT_BATCH,
    )
