"""Monthly progress, photos and revocation schemas (policy R6, R13)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from shared.money import Money, Percent

MONTH = r"^[12][0-9]{3}-(0[1-9]|1[0-2])$"  # ASCII digits, years 1000–2999 (no year 0)


class _ProgressFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    investment_month: Money = Field(description="本月完成投资（万元）")
    cumulative_investment: Money = Field(description="累计完成投资（万元），不得减少")
    progress_pct: Percent = Field(description="形象进度（%）")
    milestone: str | None = Field(None, max_length=500, description="本月达到的节点")
    problems: str | None = Field(None, max_length=4000, description="存在的问题")
    exceeds_total_confirmed: bool = Field(False, description="确认累计投资超过总投资（未确认时超出即拒绝）")


class ProgressIn(_ProgressFields):
    month: str = Field(pattern=MONTH, max_length=7, description="月份 YYYY-MM")


class CorrectionIn(_ProgressFields):
    reason: str = Field(min_length=2, max_length=500, description="更正原因（记入审计）")


class PhotoOut(BaseModel):
    id: uuid.UUID = Field(description="照片 ID（下载：GET /api/v1/files/{id}）")
    month: str = Field(description="所属月报月份")
    sha256: str = Field(description="内容 SHA-256")
    content_type: str = Field(description="文件类型")
    size: int = Field(description="字节数")
    filename: str | None = Field(description="原文件名")
    uploaded_by: str = Field(description="上传人")
    uploaded_at: datetime = Field(description="上传时间")


class ProgressOut(BaseModel):
    id: uuid.UUID = Field(description="月报 ID")
    project_id: uuid.UUID = Field(description="项目 ID")
    month: str = Field(description="月份")
    version: int = Field(description="版本（更正递增）")
    current: bool = Field(description="是否现行版本")
    investment_month: Money = Field(description="本月完成投资（万元）")
    cumulative_investment: Money = Field(description="累计完成投资（万元）")
    exceeds_total: bool = Field(description="累计超过总投资（已确认）")
    progress_pct: Decimal = Field(description="形象进度（%）")
    milestone: str | None = Field(description="节点")
    problems: str | None = Field(description="问题")
    reporter: str = Field(description="填报人账号")
    reporter_name: str | None = Field(description="填报人")
    correction_reason: str | None = Field(description="更正原因")
    on_time: bool = Field(description="是否按期报送")
    reported_at: datetime = Field(description="报送时间")


class ProgressList(BaseModel):
    items: list[ProgressOut] = Field(description="月报（现行版本在前，含历次更正）")
    missing_months: list[str] = Field(description="逾期未报月份（policy R6）")
    photos: list[PhotoOut] = Field(description="进度照片")


class RevocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=2, max_length=1000, description="收回依据与说明（记入审计）")
    revoke_approval: bool = Field(True, description="收回审批（核准/备案）手续")
    revoke_land_quota: bool = Field(True, description="收回用地指标")
    on: date | None = Field(None, description="收回日期（缺省今天）")
