"""The scoring service's schema: facts it learns from events, and its assessments (R27–R30).

Fact tables (filled only by consumers.py from project.*, approval.* and issue.* events) are
what a monthly run aggregates, in SQL, per unit and month. Everything else is the
service's own records: assignment letters, notices, summons, rubrics, runs, objections.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared import clock
from shared.db import make_base
from shared.events import EventPipeline
from shared.money import MONEY_SQL

Base = make_base("scoring")
pipeline = EventPipeline("scoring", Base.metadata)


# --- facts (from events) ---------------------------------------------------------------


class ProjectFact(Base):
    """A project as the registry announced it: what monthly assessment counts per unit."""

    __tablename__ = "project_facts"

    project_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    project_code: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[str] = mapped_column(String(40), index=True)
    category: Mapped[str] = mapped_column(String(20))
    total_investment: Mapped[Decimal] = mapped_column(MONEY_SQL)
    # null only while a later event about the project arrived before project.created
    created_event_id: Mapped[uuid.UUID | None]
    name: Mapped[str | None] = mapped_column(String(200))
    stage: Mapped[str | None] = mapped_column(String(40))
    entered_on: Mapped[date | None] = mapped_column(Date)  # entered the library (入库)
    reserve_since: Mapped[date | None] = mapped_column(Date)
    planned_start: Mapped[date | None] = mapped_column(Date)
    actual_start: Mapped[date | None] = mapped_column(Date)
    # policy R27: True when the registry only inferred the start (project arrived already
    # past 开工 without a start date): not a start of the arrival month
    start_inferred: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    # policy R27/R30: the recorded dates of 签约, 竣工 and 投产/达效 (registry stage_dates)
    signed_on: Mapped[date | None] = mapped_column(Date)
    completed_on: Mapped[date | None] = mapped_column(Date)
    effective_on: Mapped[date | None] = mapped_column(Date)
    revoked_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=0)
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )


class ProgressFact(Base):
    """One project's monthly report (R6), or its absence (report_missing)."""

    __tablename__ = "progress_facts"

    project_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(40))
    reported: Mapped[bool] = mapped_column(Boolean)
    on_time: Mapped[bool] = mapped_column(Boolean)
    investment_month: Mapped[Decimal] = mapped_column(MONEY_SQL, default=Decimal(0))
    cumulative_investment: Mapped[Decimal | None] = mapped_column(MONEY_SQL)

    __table_args__ = (Index("ix_progress_facts_month_unit", "month", "unit_id"),)


class ApprovalFact(Base):
    """One approval case: when it opened, whether it finished within its limit (R15–R16)."""

    __tablename__ = "approval_facts"

    case_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    project_id: Mapped[uuid.UUID | None]
    unit_id: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str | None] = mapped_column(String(60))
    opened_on: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    completed_on: Mapped[date | None] = mapped_column(Date, index=True)
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    rejected: Mapped[bool] = mapped_column(Boolean, default=False)
    agency_unit_ids: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)


class IssueFact(Base):
    """One problem of the closed loop (R17–R26): responsible unit, deadline, outcome."""

    __tablename__ = "issue_facts"

    issue_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    project_id: Mapped[uuid.UUID | None]
    unit_id: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str | None] = mapped_column(String(40))
    step: Mapped[str | None] = mapped_column(String(40))
    deadline: Mapped[date | None] = mapped_column(Date)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    redo_count: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[bool | None] = mapped_column(Boolean)
    closed_on: Mapped[date | None] = mapped_column(Date)
    closed_on_time: Mapped[bool | None] = mapped_column(Boolean)
    last_event_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_issue_facts_closed_unit", "closed_on", "unit_id"),)


class MatterFact(Base):
    """A warning or an overdue matter, counted once per matter (not per delivery)."""

    __tablename__ = "matter_facts"

    kind: Mapped[str] = mapped_column(String(60), primary_key=True)  # the event type
    ref: Mapped[str] = mapped_column(String(120), primary_key=True)
    unit_id: Mapped[str | None] = mapped_column(String(40))
    month: Mapped[str] = mapped_column(String(7))
    on_date: Mapped[date] = mapped_column(Date)
    overdue: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (Index("ix_matter_facts_month_unit", "month", "unit_id"),)


# --- assignment letters, notices, summons (R28) ---------------------------------------


class Assignment(Base):
    """交办函: a task, the unit responsible, a deadline, where it came from."""

    __tablename__ = "assignments"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    letter_no: Mapped[str | None] = mapped_column(String(60))
    task: Mapped[str] = mapped_column(Text)
    unit_id: Mapped[str] = mapped_column(String(40), index=True)
    issued_on: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(20))
    source_ref: Mapped[str | None] = mapped_column(String(120))
    project_id: Mapped[uuid.UUID | None]
    # open → completed → accepted | badly_done (→ completed again)
    status: Mapped[str] = mapped_column(String(20), default="open")
    completed_on: Mapped[date | None] = mapped_column(Date)
    completion_note: Mapped[str | None] = mapped_column(Text)
    judged_on: Mapped[date | None] = mapped_column(Date)
    judgement_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )
    version: Mapped[int] = mapped_column(Integer, default=1)


class Notice(Base):
    """通报: one per assignment and reviewed month; `ordinal` counts per assignment."""

    __tablename__ = "notices"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    assignment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assignments.id"))
    unit_id: Mapped[str] = mapped_column(String(40), index=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    ordinal: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(20))  # unfinished | badly_done
    level: Mapped[str] = mapped_column(String(20))  # notice | deputy_summons | principal_summons
    issued_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )

    __table_args__ = (UniqueConstraint("assignment_id", "month"),)


class Summons(Base):
    """约谈: who summons whom, when, and the outcome once held."""

    __tablename__ = "summons"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    notice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notices.id"), unique=True)
    assignment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assignments.id"))
    unit_id: Mapped[str] = mapped_column(String(40), index=True)
    month: Mapped[str] = mapped_column(String(7))
    level: Mapped[str] = mapped_column(String(20))  # deputy | principal
    summoner: Mapped[str] = mapped_column(String(120))
    # the summoning leader's name from the unit directory on the day (R28), None if not kept
    summoner_name: Mapped[str | None] = mapped_column(String(50))
    summoned: Mapped[str] = mapped_column(String(120))
    issued_on: Mapped[date] = mapped_column(Date)
    due_by: Mapped[date] = mapped_column(Date)
    held_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="scheduled")  # scheduled | held


# --- rubrics, runs, objections (R27, R29, R30) ----------------------------------------


class Rubric(Base):
    """A versioned scoring rubric for townships or for departments; never edited in place."""

    __tablename__ = "rubrics"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(20))  # township | department
    version: Mapped[int] = mapped_column(Integer)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )

    __table_args__ = (UniqueConstraint("kind", "version"),)


class AssessmentRun(Base):
    """A month's assessment: the inputs it used, the rubric versions, the result."""

    __tablename__ = "assessment_runs"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="draft")  # draft | published
    revision: Mapped[int] = mapped_column(Integer, default=1)
    rubric_ids: Mapped[dict[str, str]] = mapped_column(JSONB)  # kind → rubric id
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONB)
    inputs_digest: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict[str, Any]] = mapped_column(JSONB)
    run_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )
    run_by: Mapped[str] = mapped_column(String(120))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[str | None] = mapped_column(String(120))


class Objection(Base):
    """A unit's objection to its draft figures; the office resolves it before publishing."""

    __tablename__ = "objections"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    month: Mapped[str] = mapped_column(ForeignKey("assessment_runs.month"), index=True)
    unit_id: Mapped[str] = mapped_column(String(40))
    item: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | accepted | rejected
    resolution: Mapped[str | None] = mapped_column(Text)
    raised_by: Mapped[str] = mapped_column(String(120))
    raised_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )
    resolved_by: Mapped[str | None] = mapped_column(String(120))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
