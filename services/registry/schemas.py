"""Project schemas (policy R1–R3, R8, R10, R11, R14). Every field documented in Chinese."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.registry.codes import credit_code_problem, project_code_problem
from shared.money import Money, Percent
from shared.text import Name, check_name

# input bounds (issue 14: every list and string has a documented maximum)
MAX_TAGS = 50
Tag = Annotated[str, Field(max_length=40, description="标签（1–40 字）")]
MAX_TARGETS = 50
MAX_LIBRARY_ENTRIES = 20

Category = Literal["industrial", "infrastructure", "livelihood"]
Library = Literal["reserve", "annual", "key"]
Kind = Literal["new", "continued"]
Level = Literal["provincial", "municipal", "county"]
Stage = Literal["signed", "landed", "started", "under_construction", "completed", "effective"]
ApprovalKind = Literal["approval", "filing"]
ApprovalLevel = Literal["national", "provincial", "municipal", "county"]
TargetKind = Literal["start", "progress", "complete", "custom"]
ScaleBand = Literal["small", "medium", "large"]


def check_project_code(value: str) -> str:
    value = value.strip().upper()
    problem = project_code_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def check_credit_code(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().upper()
    problem = credit_code_problem(value)
    if problem:
        raise ValueError(problem)
    return value


class MembershipIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    library: Library = Field(description="子库：reserve 储备 / annual 年度建设 / key 重点工程")
    kind: Kind | None = Field(None, description="年度建设类型：new 新开工 / continued 续建（年度库必填）")
    level: Level | None = Field(
        None, description="重点工程级别：provincial 省级 / municipal 市级 / county 县级"
    )
    since: date | None = Field(None, description="入库日期（缺省为今天）")
    until: date | None = Field(None, description="出库日期（补录历史成员关系时填写，不得晚于今天）")

    @model_validator(mode="after")
    def _shape(self) -> MembershipIn:
        if self.until is not None and (self.since is None or self.until < self.since):
            raise ValueError("出库日期须不早于入库日期（且须同时给出入库日期）")
        if self.library == "annual" and self.kind is None:
            raise ValueError("年度建设项目须注明新开工（new）或续建（continued）")
        if self.library == "key" and self.level is None:
            raise ValueError("重点工程须注明级别（省级/市级/县级）")
        if self.library == "reserve" and (self.kind or self.level):
            raise ValueError("储备项目不分新开工/续建与级别")
        if self.library == "annual" and self.level:
            raise ValueError("级别只属于重点工程")
        return self


def check_libraries(libs: list[MembershipIn] | None) -> list[MembershipIn] | None:
    if libs is None:
        return None
    names = [m.library for m in libs if m.until is None]
    if len(set(names)) != len(names):
        raise ValueError("同一子库只能出现一次")
    past = [m for m in libs if m.until is not None]
    if (
        "key" in names
        and "annual" not in names
        or any(
            m.library == "key" and not any(a.library == "annual" and a.since <= m.since for a in past)
            for m in past
        )
    ):
        raise ValueError("重点工程同时是年度建设项目：须同时列入年度建设项目库（policy R1）")
    return libs


def clean_tags(tags: list[str] | None) -> list[str] | None:
    """Trimmed, checked like names, duplicates dropped in first-seen order (linear)."""
    if tags is None:
        return None
    out: dict[str, None] = {}
    for t in tags:
        t = t.strip()
        if not t or len(t) > 40:
            raise ValueError("标签须为 1–40 个字符")
        out.setdefault(check_name(t))
    return list(out)


class TargetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name = Field(min_length=2, max_length=200, description="目标名称，如“6月15日前实质性开工”")
    kind: TargetKind = Field(description="start 开工 / progress 形象进度 / complete 竣工 / custom 其他")
    due_on: date = Field(description="期限")
    threshold_pct: Percent | None = Field(None, description="形象进度目标（%），progress 类必填")
    met_on: date | None = Field(None, description="达成日期（custom 类由人工填写）")

    @model_validator(mode="after")
    def _shape(self) -> TargetIn:
        if self.kind == "progress" and self.threshold_pct is None:
            raise ValueError("形象进度类目标须给出 threshold_pct")
        return self


class _ProjectFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    carrying_unit_name: Name | None = Field(None, max_length=200, description="项目承载单位（企业名称）")
    carrying_unit_credit_code: str | None = Field(
        None, max_length=40, description="承载单位统一社会信用代码（GB 32100-2015）"
    )
    contact_leader: Name | None = Field(None, max_length=60, description="包联领导")
    team: str | None = Field(None, max_length=200, description="工作专班（一套班子）")
    work_plan: str | None = Field(None, max_length=4000, description="推进方案（一套方案）")
    follow_owner: Name | None = Field(None, max_length=60, description="一抓到底责任人")
    start_conditions_met_on: date | None = Field(None, description="具备开工条件日期（policy R13）")
    approval_kind: ApprovalKind | None = Field(
        None, description="立项方式：approval 核准 / filing 备案（policy R13）"
    )
    approval_level: ApprovalLevel | None = Field(
        None,
        description="核准/备案机关层级：national 国家 / provincial 省 / municipal 市 / county 县"
        "（“用而不建即收回”只适用于县级，policy R13）",
    )
    approval_authority: str | None = Field(
        None, max_length=200, description="核准/备案机关，如“县行政审批服务管理局”"
    )
    planned_start: date | None = Field(None, description="计划开工日期")
    planned_finish: date | None = Field(None, description="计划竣工日期")
    actual_start: date | None = Field(None, description="实际开工日期")
    operation_started_on: date | None = Field(None, description="投运日期（policy R10 两年投运）")
    capacity_reached_on: date | None = Field(None, description="达产达效日期（policy R10）")

    @field_validator("carrying_unit_credit_code")
    @classmethod
    def _v_credit(cls, v: str | None) -> str | None:
        return check_credit_code(v)

    @model_validator(mode="after")
    def _dates(self):
        if self.planned_start and self.planned_finish and self.planned_finish < self.planned_start:
            raise ValueError("计划竣工日期不能早于计划开工日期")
        return self


class ProjectIn(_ProjectFields):
    project_code: str = Field(
        max_length=40, description="项目代码（GB/T 40058-2021，如 2020-330327-48-01-167360）"
    )
    name: Name = Field(min_length=2, max_length=200, description="项目名称")
    unit_id: str = Field(max_length=40, description="责任乡镇或部门")
    category: Category = Field(
        description="类别：industrial 产业类 / infrastructure 基础设施类 / livelihood 民生保障类"
    )
    total_investment: Money = Field(description="总投资（万元）")
    government_investment: bool = Field(False, description="是否政府投资项目（policy R12）")
    libraries: list[MembershipIn] = Field(
        default_factory=list, max_length=MAX_LIBRARY_ENTRIES, description="所属子库（最多 20 条）"
    )
    stage: Stage = Field("signed", description="当前阶段：签约/落地/开工/在建/竣工/达效")
    stage_on: date | None = Field(None, description="进入当前阶段的日期（缺省今天）")
    tags: list[Tag] = Field(
        default_factory=list, max_length=MAX_TAGS, description="标签（最多 50 个，每个 1–40 字）"
    )
    major_industrial: bool = Field(False, description="重大产业项目（一年建设两年投运三年达产）")
    targets: list[TargetIn] = Field(
        default_factory=list, max_length=MAX_TARGETS, description="节点目标（policy R11，最多 50 个）"
    )

    @field_validator("project_code")
    @classmethod
    def _v_code(cls, v: str) -> str:
        return check_project_code(v)

    @field_validator("libraries")
    @classmethod
    def _v_libs(cls, v):
        return check_libraries(v)

    @field_validator("tags")
    @classmethod
    def _v_tags(cls, v):
        return clean_tags(v)


class ProjectPatch(_ProjectFields):
    name: Name | None = Field(None, min_length=2, max_length=200, description="项目名称")
    unit_id: str | None = Field(None, max_length=40, description="责任乡镇或部门")
    category: Category | None = Field(None, description="类别")
    total_investment: Money | None = Field(None, description="总投资（万元）")
    government_investment: bool | None = Field(None, description="是否政府投资项目")
    libraries: list[MembershipIn] | None = Field(
        None,
        max_length=MAX_LIBRARY_ENTRIES,
        description="所属子库（最多 20 条；完整替换：未列出的子库出库，出库日期为今天）",
    )
    stage: Stage | None = Field(None, description="新阶段（只能前进，policy R8）")
    stage_on: date | None = Field(None, description="进入新阶段的日期（缺省今天）")
    tags: list[Tag] | None = Field(None, max_length=MAX_TAGS, description="标签（完整替换，最多 50 个）")
    major_industrial: bool | None = Field(None, description="重大产业项目")
    targets: list[TargetIn] | None = Field(
        None, max_length=MAX_TARGETS, description="节点目标（完整替换，最多 50 个）"
    )
    reason: str | None = Field(None, max_length=500, description="变更原因（记入审计）")

    @field_validator("libraries")
    @classmethod
    def _v_libs(cls, v):
        return check_libraries(v)

    @field_validator("tags")
    @classmethod
    def _v_tags(cls, v):
        return clean_tags(v)


class MembershipOut(BaseModel):
    library: Library = Field(description="子库")
    kind: Kind | None = Field(description="新开工/续建")
    level: Level | None = Field(description="重点工程级别")
    since: date = Field(description="入库日期")
    until: date | None = Field(description="出库日期（在库为空）")


class TargetOut(BaseModel):
    name: str = Field(description="目标名称")
    kind: TargetKind = Field(description="类型")
    due_on: date = Field(description="期限")
    threshold_pct: Decimal | None = Field(description="形象进度目标（%）")
    met_on: date | None = Field(description="达成日期")
    status: Literal["met", "missed", "pending"] = Field(
        description="met 已达成 / missed 逾期未达成 / pending 未到期"
    )


class MilestoneOut(BaseModel):
    key: Literal["build", "operate", "capacity"] = Field(description="一年建设 / 两年投运 / 三年达产")
    label: str = Field(description="节点名称")
    due_on: date = Field(description="期限（由开工日期推算）")
    reached_on: date | None = Field(description="达到日期")
    status: Literal["met", "missed", "pending"] = Field(description="状态")


class LatestProgress(BaseModel):
    month: str = Field(description="月份 YYYY-MM")
    progress_pct: Decimal = Field(description="形象进度（%）")
    cumulative_investment: Money = Field(description="累计完成投资（万元）")


class Revocation(BaseModel):
    state: Literal["warned", "due", "revoked"] | None = Field(description="policy R13 状态")
    due_on: date | None = Field(
        description="两个月期间的最后一日（民法典第200–203条：起算日不计入）；次日起可收回"
    )
    revoked_on: date | None = Field(description="收回日期")


class ProjectOut(BaseModel):
    id: uuid.UUID = Field(description="项目 ID")
    project_code: str = Field(description="项目代码")
    code_form: Literal["gbt40058", "legacy"] = Field(description="代码形式")
    name: str = Field(description="项目名称")
    unit_id: str = Field(description="责任乡镇或部门")
    carrying_unit_name: str | None = Field(description="项目承载单位")
    carrying_unit_credit_code: str | None = Field(description="承载单位统一社会信用代码")
    contact_leader: str | None = Field(description="包联领导")
    team: str | None = Field(description="工作专班")
    work_plan: str | None = Field(description="推进方案")
    follow_owner: str | None = Field(description="一抓到底责任人")
    category: Category = Field(description="类别")
    total_investment: Money = Field(description="总投资（万元）")
    government_investment: bool = Field(description="政府投资项目")
    scale_band: ScaleBand = Field(
        description="规模档：small ≤3000万 / medium 3000–5000万（不含两端）/ large ≥5000万（R3，可配置）"
    )
    libraries: list[MembershipOut] = Field(description="子库成员关系（含历史）")
    stage: Stage = Field(description="当前阶段")
    stage_dates: dict[str, date] = Field(description="各阶段到达日期")
    start_conditions_met_on: date | None = Field(description="具备开工条件日期")
    approval_kind: ApprovalKind | None = Field(description="立项方式：核准/备案")
    approval_level: ApprovalLevel | None = Field(description="核准/备案机关层级")
    approval_authority: str | None = Field(description="核准/备案机关")
    planned_start: date | None = Field(description="计划开工")
    planned_finish: date | None = Field(description="计划竣工")
    actual_start: date | None = Field(description="实际开工")
    operation_started_on: date | None = Field(description="投运日期")
    capacity_reached_on: date | None = Field(description="达产达效日期")
    tags: list[str] = Field(description="标签")
    major_industrial: bool = Field(description="重大产业项目")
    milestones: list[MilestoneOut] = Field(description="一二三节点（policy R10）")
    targets: list[TargetOut] = Field(description="节点目标（policy R11）")
    latest_progress: LatestProgress | None = Field(description="最近一次月报")
    revocation: Revocation = Field(description="用地指标与审批收回（policy R13）")
    version: int = Field(description="版本号（ETag）")
    created_at: datetime = Field(description="入库时间")
    updated_at: datetime = Field(description="更新时间")


class ProjectPage(BaseModel):
    items: list[ProjectOut] = Field(description="本页项目")
    total: int = Field(description="符合条件的项目总数")
    page: int = Field(description="页码（从 1 开始）")
    page_size: int = Field(description="每页条数")


class CodeLookup(BaseModel):
    project_code: str = Field(description="项目代码")
    in_library: bool = Field(description="是否在库（任一子库在库）")
    project_id: uuid.UUID = Field(description="项目 ID")
    name: str = Field(description="项目名称")
    government_investment: bool = Field(description="政府投资项目")
    libraries: list[MembershipOut] = Field(description="当前所在子库及入库日期")
    history: list[MembershipOut] = Field(description="历史子库成员关系")
    since: date | None = Field(description="连续在库起始日期（最早的当前入库日期）")
    qualification_revoked: bool = Field(
        description="审批（核准/备案）手续与用地指标是否已因“用而不建”收回（policy R13）"
    )
    revoked_on: date | None = Field(description="收回日期")
