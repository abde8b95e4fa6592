from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.text import Name

Scope = Annotated[str, Field(max_length=60, description="权限范围，如 registry:read")]

Platform = Literal["service_hall", "finance", "province", "other"]
SignatureMethod = Literal["HMAC-SHA256", "HMAC-SM3"]


class TokenOut(BaseModel):
    access_token: str = Field(description="访问令牌")
    token_type: str = Field("bearer", description="令牌类型")
    expires_in: int = Field(description="有效期（秒）")
    refresh_token: str | None = Field(None, description="刷新令牌")


class UnitOut(BaseModel):
    id: str = Field(description="单位编码")
    name: str = Field(description="单位名称")
    kind: str = Field(
        description="类型：township 乡镇 / department 部门 / office 重点办 / utility 公用事业单位（水电气）"
    )
    leader_name: str = Field(description="主要负责人")
    leader_title: str = Field(description="负责人职务")
    principal_leader: str | None = Field(None, description="县主要领导（三次通报后约谈，重点办维护）")
    deputy_heads: list[str] = Field(
        default_factory=list, description="分管县领导（首位于两次通报后约谈，重点办维护）"
    )
    phone: str | None = Field(None, description="联系电话")
    active: bool = Field(description="是否在用")

    model_config = {"from_attributes": True}


class MeOut(BaseModel):
    subject: str = Field(description="主体标识（user:用户名 或 app:应用标识）")
    role: str = Field(description="角色")
    unit_id: str | None = Field(description="所属单位")
    name: str = Field(description="姓名或平台名称")
    scopes: list[str] = Field(description="权限范围")
    app_key: str | None = Field(None, description="应用标识（政务平台）")


class AppKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=100, description="平台名称")
    platform: Platform = Field(
        description="平台类型：service_hall 政务服务大厅 / finance 财政 / province 省级平台 / other 其他"
    )
    scopes: list[Scope] = Field(min_length=1, max_length=20, description="权限范围，如 registry:read")
    rate_limit_per_min: int | None = Field(
        None, ge=1, le=1_000_000, description="每分钟请求上限（空：默认 600）"
    )


class AppKeyPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=2, max_length=100, description="平台名称")
    scopes: list[Scope] | None = Field(None, min_length=1, max_length=20, description="权限范围")
    active: bool | None = Field(None, description="是否启用")
    rate_limit_per_min: int | None = Field(None, ge=1, le=1_000_000, description="每分钟请求上限")
    reason: str | None = Field(None, max_length=500, description="变更原因")


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(None, max_length=500, description="原因")


class AppKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str = Field(description="应用标识（X-App-Key）")
    name: str = Field(description="平台名称")
    platform: str = Field(description="平台类型")
    scopes: list[str] = Field(description="权限范围")
    rate_limit_per_min: int | None = Field(description="每分钟请求上限")
    active: bool = Field(description="是否启用")
    secret_fp: str = Field(description="当前密钥指纹（用于核对，不能还原密钥）")
    created_at: datetime = Field(description="创建时间")
    rotated_at: datetime | None = Field(description="最近更换密钥时间")


class AppKeyCreated(AppKeyOut):
    secret: str = Field(description="应用密钥：仅此一次返回，请妥善保存")


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="记录号")
    at: datetime = Field(description="时间")
    request_id: str | None = Field(description="请求号（X-Request-ID）")
    principal: str | None = Field(description="调用主体（未通过认证时为空）")
    role: str | None = Field(description="角色")
    unit_id: str | None = Field(description="所属单位")
    app_key: str | None = Field(description="应用标识（含被拒绝请求所声称的）")
    method: str = Field(description="请求方法")
    path: str = Field(description="路径")
    query: str | None = Field(description="查询串")
    status: int = Field(description="响应状态码")
    code: str | None = Field(description="错误代码（拒绝或失败时）")
    latency_ms: float = Field(description="耗时（毫秒）")
    body_sha256: str = Field(description="请求体 SHA-256 摘要")
    body_bytes: int = Field(description="请求体字节数")
    client_ip: str | None = Field(description="客户端地址")


class AuditPage(BaseModel):
    items: list[AuditEntryOut] = Field(description="审计记录（新的在前）")
    next_before_id: int | None = Field(description="下一页：以此值作为 before_id 继续查询")


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_types: list[Annotated[str, Field(max_length=100)]] = Field(
        min_length=1, max_length=50, description="订阅的事件类型"
    )
    url: str = Field(min_length=8, max_length=500, description="接收地址（http/https）")
    signature_method: SignatureMethod = Field("HMAC-SHA256", description="签名算法")
    app_key: str | None = Field(None, max_length=40, description="订阅方应用标识（仅管理员代订时填写）")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        from urllib.parse import urlsplit

        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("应为 http 或 https 地址")
        return value


class SubscriptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="订阅 ID")
    app_key: str = Field(description="订阅方应用标识")
    event_types: list[str] = Field(description="事件类型")
    url: str = Field(description="接收地址")
    signature_method: str = Field(description="签名算法")
    active: bool = Field(description="是否有效")
    created_by: str = Field(description="创建人")
    created_at: datetime = Field(description="创建时间")


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="投递 ID")
    subscription_id: uuid.UUID = Field(description="订阅 ID")
    app_key: str = Field(description="订阅方应用标识")
    event_id: uuid.UUID = Field(description="事件 ID")
    event_type: str = Field(description="事件类型")
    status: str = Field(
        description="状态：pending 待投递/重试中 / delivered 已送达 / dead 死信 / cancelled 订阅已取消"
    )
    attempts: int = Field(description="已尝试次数")
    next_attempt_at: datetime = Field(description="下次尝试时间")
    last_attempt_at: datetime | None = Field(description="最近尝试时间")
    last_status: int | None = Field(description="最近一次对方响应状态码")
    last_error: str | None = Field(description="最近一次失败原因")
    delivered_at: datetime | None = Field(description="送达时间")
    replays: int = Field(description="人工重放次数")
    created_at: datetime = Field(description="创建时间")


StaffRole = Literal["admin", "key_office", "township", "department", "leader", "enterprise"]


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(
        min_length=2,
        max_length=60,
        pattern=r"^[a-z0-9][a-z0-9_.-]{1,59}$",
        description="用户名（小写字母、数字、_ . -）",
    )
    name: Name = Field(min_length=1, max_length=50, description="姓名")
    role: StaffRole = Field(description="角色")
    unit_id: str | None = Field(None, max_length=40, description="所属单位（乡镇、部门必填）")
    org_code: str | None = Field(None, max_length=18, description="企业用户的统一社会信用代码")
    reason: str | None = Field(None, max_length=500, description="原因（记入审计）")


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = Field(None, min_length=1, max_length=50, description="姓名")
    role: StaffRole | None = Field(None, description="角色（变更后原令牌数秒内失效）")
    unit_id: str | None = Field(None, max_length=40, description="调整所属单位（原令牌数秒内失效）")
    active: bool | None = Field(None, description="启用/停用（停用后原令牌数秒内失效）")
    reason: str | None = Field(None, max_length=500, description="原因（记入审计）")

    @model_validator(mode="after")
    def _no_nulls(self) -> UserPatch:
        # an omitted field is kept; null would clear what every account must have (found by
        # schemathesis: a database NOT NULL refusal instead of a 422, issue 14)
        nulled = [
            f for f in ("name", "role", "active") if f in self.model_fields_set and getattr(self, f) is None
        ]
        if nulled:
            raise ValueError(f"{'、'.join(nulled)} 不能为 null（不改则省略该字段）")
        return self


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str = Field(description="用户名")
    name: str = Field(description="姓名")
    role: str = Field(description="角色")
    unit_id: str | None = Field(description="所属单位")
    org_code: str | None = Field(description="企业统一社会信用代码")
    active: bool = Field(description="是否启用")
    locked_until: datetime | None = Field(description="锁定至（连续登录失败）")


class UserWithPassword(UserOut):
    temporary_password: str = Field(description="临时密码（仅此一次显示，请转交本人并尽快修改）")
