from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.money import Money

Category = Literal["industrial", "infrastructure", "livelihood"]


class ProjectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project_code: str = Field(description="项目代码（全国投资项目在线审批监管平台赋码）")
    name: str = Field(min_length=2, max_length=200, description="项目名称")
    unit_id: str = Field(description="责任乡镇或部门")
    category: Category = Field(
        description="类别：industrial 产业类 / infrastructure 基础设施类 / livelihood 民生保障类"
    )
    total_investment: Money = Field(description="总投资（万元）")


class ProjectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="项目 ID")
    project_code: str = Field(description="项目代码")
    name: str = Field(description="项目名称")
    unit_id: str = Field(description="责任乡镇或部门")
    category: Category = Field(description="类别")
    total_investment: Money = Field(description="总投资（万元）")
    version: int = Field(description="版本号（ETag）")
