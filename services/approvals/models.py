"""The approvals service's schema: calendar years, approval kinds, cases and their event log."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared import clock
from shared.db import make_base
from shared.events import EventPipeline

Base = make_base("approvals")
pipeline = EventPipeline("approvals", Base.metadata)


class CalendarYearRow(Base):
    """One year of the working-day calendar (policy R15): data an administrator corrects."""

    __tablename__ = "calendar_year"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    off_days: Mapped[list[date]] = mapped_column(ARRAY(Date), nullable=False)
    working_days: Mapped[list[date]] = mapped_column(ARRAY(Date), nullable=False)
    official: Mapped[bool] = mapped_column(Boolean, nullable=False)
    source: Mapped[str] = mapped_column(String(200), nullable=False)
    # bumped on every write; the per-process calendar cache is keyed on max(revision)
    revision: Mapped[int] = mapped_column(BigInteger, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=clock.now, server_default=func.now()
    )
    updated_by: Mapped[str] = mapped_column(String(120), nullable=False)


class ApprovalKind(Base):
    """An ordered list of steps, each with a limit in working days and an owning agency."""

    __tablename__ = "approval_kind"

    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    category: Mapped[str] = mapped_column(String(20), nullable=False)  # chain | three_zeros
    steps: Mapped[list[dict]] = mapped_column(JSONB, nullable=False)
    total_limit_days: Mapped[int] = mapped_column(Integer, nullable=False)
    max_total_days: Mapped[int | None] = mapped_column(Integer)  # policy ceiling (R16: 20)
    warn_share: Mapped[float] = mapped_column(Numeric(4, 3), nullable=False)
    warn_days_left: Mapped[int] = mapped_column(Integer, nullable=False)
    supplement_window_days: Mapped[int] = mapped_column(Integer, nullable=False)
    builtin: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=clock.now, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=clock.now, server_default=func.now()
    )


class ApprovalCase(Base):
    """A project's approval case; its clock columns are derived from the event log."""

    __tablename__ = "approval_case"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    project_code: Mapped[str] = mapped_column(String(40), nullable=False)
    project_name: Mapped[str | None] = mapped_column(String(300))
    unit_id: Mapped[str] = mapped_column(String(40), nullable=False)
    kind: Mapped[str] = mapped_column(String(60), nullable=False)
    kind_name: Mapped[str] = mapped_column(String(200), nullable=False)
    # the kind as it was when the case opened (a later change of the kind moves no deadline)
    steps: Mapped[list[dict]] = mapped_column(JSONB, nullable=False)
    total_limit_days: Mapped[int] = mapped_column(Integer, nullable=False)
    warn_share: Mapped[float] = mapped_column(Numeric(4, 3), nullable=False)
    warn_days_left: Mapped[int] = mapped_column(Integer, nullable=False)
    supplement_window_days: Mapped[int] = mapped_column(Integer, nullable=False)
    agency_unit_ids: Mapped[list[str]] = mapped_column(ARRAY(String(40)), nullable=False)
    # R19 容缺受理 / 信用承诺; project_type as derived from the registry's record
    project_type: Mapped[str] = mapped_column(String(40), nullable=False, default="other")
    acceptance_mode: Mapped[str] = mapped_column(String(20), nullable=False, default="standard")
    missing_items: Mapped[list[str]] = mapped_column(JSONB, nullable=False, default=list)
    missing_items_due: Mapped[date | None] = mapped_column(Date)
    missing_items_supplied_on: Mapped[date | None] = mapped_column(Date)
    missing_items_overdue: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # R20 fast track
    fast_track: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    assistant: Mapped[dict | None] = mapped_column(JSONB)
    fast_track_basis: Mapped[str | None] = mapped_column(String(20))  # key_project | office_decision
    # R21 three zeros: {"zero_visit", "zero_approval", "zero_cost", "utility_unit_id", ...}
    three_zeros: Mapped[dict | None] = mapped_column(JSONB)
    # the clock, as last computed (recomputed from the log on every change)
    phase: Mapped[str] = mapped_column(String(30), nullable=False, default="new")
    state: Mapped[str] = mapped_column(String(20), nullable=False, default="new", index=True)
    current_step: Mapped[str | None] = mapped_column(String(60))
    received_on: Mapped[date | None] = mapped_column(Date)
    accepted_on: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    due_provisional: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    step_due_date: Mapped[date | None] = mapped_column(Date)
    completed_on: Mapped[date | None] = mapped_column(Date)
    # thresholds still to fire ([{key, scope, type, at, ts, until_ts?, ...}], thresholds.py)
    # and those fired (keys)
    thresholds: Mapped[list[dict]] = mapped_column(JSONB, nullable=False, default=list)
    fired: Mapped[list[str]] = mapped_column(JSONB, nullable=False, default=list)
    next_threshold_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_by: Mapped[str] = mapped_column(String(120), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=clock.now, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=clock.now, server_default=func.now()
    )

    __table_args__ = (
        # the sweeper's index: only clocks with a threshold still ahead are in it
        Index(
            "ix_approval_case_next_threshold_at",
            "next_threshold_at",
            postgresql_where=text("next_threshold_at IS NOT NULL"),
        ),
    )


class CaseEvent(Base):
    """The service hall's event log of a case: idempotent by ``event_id``."""

    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("approval_case.id", ondelete="CASCADE"), nullable=False
    )
    event_id: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    type: Mapped[str] = mapped_column(String(40), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    step_code: Mapped[str | None] = mapped_column(String(60))
    reason: Mapped[str | None] = mapped_column(String(40))
    evidence_ref: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    payload_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    result: Mapped[dict] = mapped_column(JSONB, nullable=False)
    actor: Mapped[str] = mapped_column(String(120), nullable=False)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=clock.now, server_default=func.now()
    )

    __table_args__ = (Index("ix_case_event_case_id_occurred_at", "case_id", "occurred_at", "id"),)
