"""The gateway's schema: the organisational-unit directory and staff users."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import make_base
from shared.events import EventPipeline

Base = make_base("gateway")
pipeline = EventPipeline("gateway", Base.metadata)


class Unit(Base):
    """A township (乡镇), department (部门) or the key office (重点办): the directory's one owner."""

    __tablename__ = "units"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # township | department | office
    leader_name: Mapped[str] = mapped_column(String(50))  # 主要负责人
    leader_title: Mapped[str] = mapped_column(String(50))
    # the deputy county head in charge (分管县领导), who summons at the second notice (R28)
    deputy_head: Mapped[str | None] = mapped_column(String(50))
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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
