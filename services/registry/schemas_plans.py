"""Plan targets and the plan summary (policy R4, R5, R9, R11)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.registry.schemas import Category, Level, ScaleBand
from shared.money import Money, bounded_decimal

MAX_COUNT = 100_000  # far above any county's project count; a documented bound (issue 14)


class Figure(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int | None = Field(None, ge=0, le=MAX_COUNT, description="项目个数")
    total_investment: Money | None = Field(None, description="总投资（万元）")


class LevelFigure(Figure):
    continued: int | None = Field(None, ge=0, le=MAX_COUNT, description="其中续建个数")
    new: int | None = Field(None, ge=0, le=MAX_COUNT, description="其中新开工个数")


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(ge=0, le=MAX_COUNT, description="计划重点项目个数")
    total_investment: Money = Field(description="计划总投资（万元）")
    by_band: dict[ScaleBand, Figure] = Field(default_factory=dict, max_length=20, description="按规模档")
    by_category: dict[Category, Figure] = Field(default_factory=dict, max_length=20, description="按类别")
    by_level: dict[Level, LevelFigure] = Field(default_factory=dict, max_length=20, description="按级别")
    county_start_rate_target: bounded_decimal(1, 4) | None = Field(
        None, description="县级开工率目标（0–1，缺省 0.83）"
    )
    reserve_ratio_target: bounded_decimal(100, 4) | None = Field(
        None, description="储备/年度投资倍数目标（0–100，缺省 5）"
    )
    note: str | None = Field(None, max_length=2000, description="说明（如文件文号）")


class PlanOut(BaseModel):
    year: int = Field(description="年度")
    declared: PlanIn = Field(description="申报的计划目标（原样保存）")
    version: int = Field(description="版本")
    updated_at: datetime = Field(description="更新时间")


class ActualFigure(BaseModel):
    count: int = Field(description="项目个数")
    total_investment: Money = Field(description="总投资（万元）")
    total_yi: Decimal = Field(description="总投资（亿元）")


class Mismatch(BaseModel):
    kind: Literal["declared_internal", "declared_vs_actual"] = Field(
        description="declared_internal 计划自身分项与合计不符 / declared_vs_actual 计划与项目记录不符"
    )
    field: str = Field(description="对比项，如 by_category.total_investment")
    unit: Literal["count", "万元"] = Field(description="单位")
    declared: str = Field(description="申报值")
    compared_with: str = Field(description="对比值（分项合计或实际记录）")
    difference: str = Field(description="差额（申报值减对比值）")
    detail: str = Field(description="说明")


class RateCheck(BaseModel):
    numerator: int | str = Field(description="分子（个数或万元）")
    denominator: int | str = Field(description="分母")
    value: Decimal | None = Field(description="比率")
    target: Decimal = Field(description="目标")
    met: bool = Field(description="是否达标")


class RatioBase(BaseModel):
    reserve_total: str = Field(description="储备库总投资（万元）")
    annual_total: str = Field(description="年度建设项目总投资（万元）")
    required_reserve: str = Field(description="达标所需储备总投资 = 目标倍数 × 年度总投资（万元）")
    rule: str = Field(description="判定规则")


class ReserveRatioCheck(RateCheck):
    value: Decimal | None = Field(description="倍数（截至 4 位小数，仅供展示；达标按精确值判定）")
    base: RatioBase = Field(description="判定所用的基数（R5）")


class MunicipalTarget(BaseModel):
    numerator: int = Field(description="已完成个数（续建基本建成 / 新建已开工）")
    denominator: int = Field(description="应完成个数（该组全部市级重点项目）")
    target: int = Field(description="目标个数")
    met: bool = Field(description="是否达标")
    status: Literal["met", "missed", "pending"] = Field(
        description="met 已达标 / missed 年度结束未达标 / pending 年内尚未达标"
    )


class CompletionItem(BaseModel):
    project_id: uuid.UUID = Field(description="项目 ID")
    project_code: str = Field(description="项目代码")
    name: str = Field(description="项目名称")
    unit_id: str = Field(description="责任单位")
    kind: Literal["new", "continued"] = Field(description="新开工/续建")
    total_investment: Money = Field(description="总投资（万元）")
    rule: str = Field(
        description="适用规则：basic_completion 基本建成 / new_mid / new_large / continued_large"
    )
    target_pct: Decimal = Field(description="年末目标（%）")
    actual_pct: Decimal = Field(description="年内最新形象进度（%）；已竣工按 100")
    status: Literal["met", "behind", "missed"] = Field(
        description="met 已达标 / behind 未达标（年内）/ missed 年末未达标"
    )


class NamedTargetItem(BaseModel):
    project_id: uuid.UUID = Field(description="项目 ID")
    name: str = Field(description="项目名称")
    target: str = Field(description="目标")
    due_on: date = Field(description="期限")
    met_on: date | None = Field(description="达成日期")
    status: Literal["met", "missed", "pending"] = Field(description="状态")


class PlanSummary(BaseModel):
    year: int = Field(description="年度")
    declared: PlanIn | None = Field(description="申报计划（未申报为空）")
    key: ActualFigure = Field(description="实际重点项目（本年在重点工程库）")
    by_level: dict[str, ActualFigure] = Field(description="按级别")
    by_band: dict[str, ActualFigure] = Field(description="按规模档")
    by_category: dict[str, ActualFigure] = Field(description="按类别")
    municipal: dict[str, int] = Field(
        description="市级：续建/新开工个数，续建已竣工、新开工已开工个数（R11）"
    )
    municipal_targets: dict[str, MunicipalTarget] = Field(
        description="市级目标：continued_completed 续建基本建成、new_started 新建开工（R11）"
    )
    annual: ActualFigure = Field(description="年度建设项目")
    reserve: ActualFigure = Field(description="储备项目")
    county_start_rate: RateCheck = Field(description="县级重点项目开工率（目标 83%，R11）")
    reserve_ratio: ReserveRatioCheck = Field(description="储备/年度投资倍数（目标 5 倍，R5）")
    completion_counts: dict[str, int] = Field(description="年末完成目标各状态个数（R9）")
    completion_targets: list[CompletionItem] = Field(
        description="年度项目年末目标（按 limit 截取，未达标在前）"
    )
    completion_targets_total: int = Field(description="年度项目总数")
    named_target_counts: dict[str, int] = Field(description="节点目标各状态个数（R11）")
    named_targets: list[NamedTargetItem] = Field(description="节点目标（按 limit 截取）")
    mismatches: list[Mismatch] = Field(description="申报与实际、申报自身的每一处不符（R4）")
