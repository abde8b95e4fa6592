from __future__ import annotations

from pydantic import BaseModel, Field


class TokenOut(BaseModel):
    access_token: str = Field(description="访问令牌")
    token_type: str = Field("bearer", description="令牌类型")
    expires_in: int = Field(description="有效期（秒）")
    refresh_token: str | None = Field(None, description="刷新令牌")


class UnitOut(BaseModel):
    id: str = Field(description="单位编码")
    name: str = Field(description="单位名称")
    kind: str = Field(description="类型：township 乡镇 / department 部门 / office 重点办")
    leader_name: str = Field(description="主要负责人")
    leader_title: str = Field(description="负责人职务")
    deputy_head: str | None = Field(None, description="分管县领导")
    phone: str | None = Field(None, description="联系电话")
    active: bool = Field(description="是否在用")

    model_config = {"from_attributes": True}


class MeOut(BaseModel):
    subject: str
    role: str
    unit_id: str | None
    name: str
