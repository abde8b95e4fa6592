"""The gateway's schema: the unit directory, staff users, platform app keys, the request
audit log and webhook subscriptions with their deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared import clock
from shared.db import make_base
from shared.events import EventPipeline

Base = make_base("gateway")
pipeline = EventPipeline("gateway", Base.metadata)


class Unit(Base):
    """A township (乡镇), department (部门), the key office (重点办) or a utility (供电、供水、排水、
    燃气, policy R21): the directory's one owner."""

    __tablename__ = "units"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # township | department | office | utility
    leader_name: Mapped[str] = mapped_column(String(50))  # 主要负责人 (the one summoned, R28)
    leader_title: Mapped[str] = mapped_column(String(50))
    # kept by the key office (PUT /units/{id}/leaders, audited): the county's principal leader
    # (主要领导) who summons the unit's head at the third notice, and the deputy county heads
    # in charge (分管县领导, the first listed summons at the second notice) — policy R28
    principal_leader: Mapped[str | None] = mapped_column(String(50))
    deputy_heads: Mapped[list[str]] = mapped_column(ARRAY(String(50)), default=list, server_default="{}")
    phone: Mapped[str | None] = mapped_column(String(30))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    password_hash: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"))
    # an enterprise user's unified social credit code: it sees its own projects only
    org_code: Mapped[str | None] = mapped_column(String(18))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # raised on disable, move, role change and password reset: older tokens stop working
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )


class AppKey(Base):
    """A government platform's app key. Its secret is derived, never stored (crypto.py)."""

    __tablename__ = "app_keys"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # service_hall 政务服务大厅 | finance 财政 | province 省级平台 | other
    platform: Mapped[str] = mapped_column(String(20))
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(60)))
    salt: Mapped[str] = mapped_column(String(64))
    secret_fp: Mapped[str] = mapped_column(String(16))
    rate_limit_per_min: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RequestLog(Base):
    """Every request through the gateway, refusals included (written in batches)."""

    __tablename__ = "request_log"
    __table_args__ = (
        Index("ix_request_log_at", "at"),
        Index("ix_request_log_principal", "principal", "id"),
        Index("ix_request_log_app_key", "app_key", "id"),
        Index("ix_request_log_request_id", "request_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    request_id: Mapped[str | None] = mapped_column(String(64))
    principal: Mapped[str | None] = mapped_column(String(120))
    role: Mapped[str | None] = mapped_column(String(20))
    unit_id: Mapped[str | None] = mapped_column(String(40))
    app_key: Mapped[str | None] = mapped_column(String(40))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    query: Mapped[str | None] = mapped_column(Text)
    status: Mapped[int] = mapped_column(Integer)
    code: Mapped[str | None] = mapped_column(String(80))
    latency_ms: Mapped[float] = mapped_column(Float)
    body_sha256: Mapped[str] = mapped_column(String(64))
    body_bytes: Mapped[int] = mapped_column(Integer)
    client_ip: Mapped[str | None] = mapped_column(String(45))


class WebhookSubscription(Base):
    """A platform's standing order: POST these event types to this URL, signed."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    app_key: Mapped[str] = mapped_column(ForeignKey("app_keys.key"))
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(80)))
    url: Mapped[str] = mapped_column(String(500))
    signature_method: Mapped[str] = mapped_column(String(20), default="HMAC-SHA256")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )


class WebhookDelivery(Base):
    """One event for one subscription: pending → delivered, or dead after the last try."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        Index("ix_webhook_deliveries_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
        Index("ix_webhook_deliveries_status", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    subscription_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_subscriptions.id"))
    app_key: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    event_type: Mapped[str] = mapped_column(String(80))
    envelope: Mapped[dict] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    replays: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )
