"""Response models of the monthly run and the year-end result (policy R27, R29, R30).

They document exactly the JSON the assessment endpoints answer (built as dicts by
`router_assessments._run_body`, `assessment.run_month` and `yearend.year_result`) and are
attached as documentation only (`responses={200: {"model": ...}}`), so the answered JSON
keeps its key order, decimal strings and timestamps. `extra="forbid"`: a key the models
do not name fails `tests/scoring/test_openapi_shapes.py`. Decimal values are strings.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from services.scoring.schemas import NoticeOut

Kind = Literal["township", "department"]
_FORBID = ConfigDict(extra="forbid")


def _absent(description: str):
    """A key that is left out (never null) when it does not apply."""
    return Field(None, description=description, json_schema_extra=lambda s: s.pop("default", None))


class UnitFigures(BaseModel):
    """单位当月考核输入（事实表汇总；计数为整数，金额与比率为小数字符串，比率不涉及时为 null）。"""

    model_config = _FORBID

    starts: int = Field(description="当月新开工项目数")
    start_planned: int = Field(description="年初至当月计划开工项目数")
    start_done: int = Field(description="其中截至当月已开工数")
    reserve_added: int = Field(description="当月新增储备项目数")
    signed_count: int = Field(description="当月签约项目数（按项目库记载的签约日期）")
    completions: int = Field(description="当月竣工项目数（按项目库记载的竣工日期）")
    in_production: int = Field(description="当月投产（达效）项目数（按项目库记载的日期）")
    reports_due: int = Field(description="当月应报月报数")
    reports_on_time: int = Field(description="当月按时报送月报数")
    approvals_done: int = Field(description="当月作为审批部门办结的审批事项数")
    approvals_on_time: int = Field(description="其中按时办结数")
    approvals_completed: int = Field(description="当月本单位项目办结的审批案件数")
    problems_closed: int = Field(description="当月办结问题数")
    problems_on_time: int = Field(description="其中按期办结数")
    satisfaction_rated: int = Field(description="当月回访评价问题数")
    satisfied: int = Field(description="其中满意数")
    overdue_matters: int = Field(description="当月逾期事项数")
    notices: int = Field(description="当月被通报次数")
    signed_investment: str = Field(description="当月签约项目总投资（万元，保留四位小数）")
    investment_completed: str = Field(description="当月完成投资（万元，保留四位小数）")
    investment_ytd: str = Field(description="年度累计完成投资（万元，保留四位小数）")
    start_rate: str | None = Field(description="年度计划开工率（截至当月，0–1，四位小数；不涉及为 null）")
    report_on_time_rate: str | None = Field(description="月报按时报送率（0–1，四位小数；不涉及为 null）")
    approval_on_time_rate: str | None = Field(description="审批按时办结率（0–1，四位小数；不涉及为 null）")
    problem_on_time_rate: str | None = Field(description="问题按期办结率（0–1，四位小数；不涉及为 null）")
    satisfaction_rate: str | None = Field(description="问题办理满意率（0–1，四位小数；不涉及为 null）")
    service_index: str | None = Field(
        description="服务指数：审批、问题、满意、月报四率中适用者的平均（五比服务、晒质量；不涉及为 null）"
    )
    overdue_matters_neg: int = Field(description="逾期事项数的相反数（五比服务并列时的次序键）")


class AssessedUnit(BaseModel):
    model_config = _FORBID

    unit_id: str = Field(description="单位 ID")
    unit_name: str = Field(description="单位名称")
    kind: Kind = Field(description="类别：township 乡镇 / department 部门")
    score: str = Field(description="综合得分（0–100，保留两位小数）")
    rank: int = Field(description="同类单位中的名次（并列同名次，1224 排名）")
    points: dict[str, str] = Field(
        description="各评分项得分：键为评分细则的指标键（metric），值为得分（小数字符串，保留两位小数；"
        "同类单位均不涉及该项时为该项权重原值）"
    )
    notices: int = Field(description="当月被通报次数")
    figures: UnitFigures = Field(description="考核输入（该单位当月的原始数据与比率）")


class ComparisonRow(BaseModel):
    model_config = _FORBID

    unit_id: str = Field(description="单位 ID")
    unit_name: str = Field(description="单位名称")
    rank: int = Field(description="名次（主指标降序，并列看次指标）")
    value: str = Field(description="主指标值（小数字符串）")
    secondary: str = Field(description="次指标值（并列时比较；小数字符串）")


class ComparisonTable(BaseModel):
    model_config = _FORBID

    name: str = Field(description="比较名称，如 三比开工、晒进度")
    primary: str = Field(description="主指标键")
    secondary: str = Field(description="次指标键（并列时比较）")
    township: list[ComparisonRow] = Field(description="乡镇排名")
    department: list[ComparisonRow] = Field(description="部门排名")


class Comparisons(BaseModel):
    """五晒五比（R30）：每项在乡镇、部门内各自排名。"""

    model_config = _FORBID

    planning: ComparisonTable = Field(description="一比谋划、晒前期")
    contracts: ComparisonTable = Field(description="二比招商、晒签约（签约项目）")
    starts: ComparisonTable = Field(description="三比开工、晒进度")
    production: ComparisonTable = Field(description="四比投产、晒成效（投产/达效项目，不是竣工）")
    service: ComparisonTable = Field(description="五比服务、晒质量")


class RubricVersions(BaseModel):
    model_config = _FORBID

    township: int = Field(description="乡镇评分细则版本号")
    department: int = Field(description="部门评分细则版本号")


class RubricIds(BaseModel):
    model_config = _FORBID

    township: uuid.UUID = Field(description="乡镇评分细则 ID")
    department: uuid.UUID = Field(description="部门评分细则 ID")


class MonthNotice(NoticeOut):
    model_config = _FORBID

    task: str = Field(description="交办任务")
    deadline: date = Field(description="办结期限")
    level_name: str = Field(description="级别（中文）")


class AssessmentOut(BaseModel):
    """月度考核结果（R27、R29、R30）。"""

    model_config = _FORBID

    month: str = Field(description="考核月份 YYYY-MM")
    status: Literal["draft", "published"] = Field(
        description="状态：draft 草稿（可提异议）/ published 已发布"
    )
    revision: int = Field(description="修订次数（草稿重算且结果变化时加一）")
    rubric_versions: RubricVersions = Field(description="所用评分细则版本")
    rubric_ids: RubricIds = Field(description="所用评分细则 ID")
    inputs_digest: str = Field(description="考核输入的 SHA-256 摘要")
    run_at: datetime = Field(description="最近执行时间")
    run_by: str = Field(description="执行人")
    published_at: datetime | None = Field(description="发布时间（草稿为 null）")
    published_by: str | None = Field(description="发布人（草稿为 null）")
    units: list[AssessedUnit] = Field(description="各单位得分与名次（按类别、名次排序）")
    comparisons: Comparisons = Field(description="五晒五比（R30）")
    notices: list[MonthNotice] = Field(description="当月通报（R28）")


class AssessmentRunOut(AssessmentOut):
    """执行月度考核的结果：月度考核结果加本次执行的情况。"""

    action: Literal["created", "unchanged", "updated", "reproduced"] = Field(
        description="本次执行：created 首次生成 / unchanged 无变化 / updated 已更新（修订加一）/ "
        "reproduced 已发布月份按存储的输入复算"
    )
    reproduced: bool | None = Field(
        description="复算结果是否与已发布结果完全一致（仅已发布月份；草稿为 null）"
    )
    notices_issued: int = Field(description="本次新发通报数")


class YearItems(BaseModel):
    """年终项目比率（0–1，四位小数）；单位不涉及的项目不出现。"""

    model_config = _FORBID

    start_rate: str | SkipJsonSchema[None] = _absent("年度计划开工率")
    report_on_time_rate: str | SkipJsonSchema[None] = _absent("月报按时报送率")
    problem_on_time_rate: str | SkipJsonSchema[None] = _absent("问题按期办结率")
    assignment_on_time_rate: str | SkipJsonSchema[None] = _absent("交办事项按期办结率")


class YearItemNames(BaseModel):
    model_config = _FORBID

    start_rate: str = Field(description="年度计划开工率（名称）")
    report_on_time_rate: str = Field(description="月报按时报送率（名称）")
    problem_on_time_rate: str = Field(description="问题按期办结率（名称）")
    assignment_on_time_rate: str = Field(description="交办事项按期办结率（名称）")


class YearFormula(BaseModel):
    model_config = _FORBID

    months_share: str = Field(description="月度得分权重（0.70）")
    year_items_share: str = Field(description="年终项目权重（0.30）")
    commend_share: str = Field(description="表彰比例（每类前 20%，至少一个）")
    year_items: YearItemNames = Field(description="年终项目的中文名称")


class YearUnit(BaseModel):
    model_config = _FORBID

    unit_id: str = Field(description="单位 ID")
    monthly: dict[str, str] = Field(description="各已发布月份的综合得分：键为月份 YYYY-MM")
    unit_name: str = Field(description="单位名称")
    kind: Kind = Field(description="类别：township 乡镇 / department 部门")
    months_average: str = Field(description="已发布月份得分平均（保留两位小数）")
    year_items: YearItems = Field(description="年终项目比率")
    year_items_score: str = Field(description="年终项目得分（100 × 适用比率的平均；都不涉及为 100）")
    summons_deputy: int = Field(description="年内分管县领导约谈次数")
    summons_principal: int = Field(description="年内主要领导约谈次数")
    score: str = Field(description="年度得分 = 70% × 月度平均 + 30% × 年终项目得分（保留两位小数）")
    rank: int = Field(description="同类单位中的年度名次")
    commended: bool = Field(description="是否表彰（前 20% 且年内未被约谈）")
    funding_priority: bool = Field(description="是否享有次年前期经费优先支持")


class Commendation(BaseModel):
    model_config = _FORBID

    unit_id: str = Field(description="单位 ID")
    unit_name: str = Field(description="单位名称")
    kind: Kind = Field(description="类别")
    rank: int = Field(description="年度名次")
    score: str = Field(description="年度得分（保留两位小数）")


class YearResultOut(BaseModel):
    """年度考核结果（R29）：已发布月份与年终项目综合，表彰名单。"""

    model_config = _FORBID

    year: int = Field(description="年度")
    final: bool = Field(description="是否最终结果（12 个月均已发布）")
    months_published: list[str] = Field(description="已发布的月份 YYYY-MM")
    formula: YearFormula = Field(description="计算公式的参数")
    township: list[YearUnit] = Field(description="乡镇年度排名")
    department: list[YearUnit] = Field(description="部门年度排名")
    commendations: list[Commendation] = Field(description="表彰名单")
    funding_priority: list[str] = Field(description="次年前期经费优先支持的单位 ID")
