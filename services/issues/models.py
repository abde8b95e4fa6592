"""The issues service's schema: problems, their sub-tasks, visits, reminders, meetings.

policy R22–R26. The step a problem stands at is one column (``step``); what may happen
next lives in ``flow.py`` only.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

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
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared import clock
from shared.db import make_base
from shared.events import EventPipeline

Base = make_base("issues")
pipeline = EventPipeline("issues", Base.metadata)


class Issue(Base):
    """A problem (问题) of one project, walked through the five steps (policy R22)."""

    __tablename__ = "issues"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(index=True)
    project_code: Mapped[str | None] = mapped_column(String(32))
    project_name: Mapped[str | None] = mapped_column(String(200))
    # the township/department in charge of the project (it sees the project's problems)
    project_unit_id: Mapped[str | None] = mapped_column(String(40), index=True)
    # the project's carrying unit's unified social credit code (an enterprise sees its own)
    enterprise_code: Mapped[str | None] = mapped_column(String(18), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(30))
    # what opened it, e.g. "<case_id>:<step_code>" for an overdue approval (unique per source)
    source_ref: Mapped[str | None] = mapped_column(String(120))
    reporter: Mapped[str] = mapped_column(String(120))
    reporter_name: Mapped[str] = mapped_column(String(120), default="")
    reporter_role: Mapped[str] = mapped_column(String(20))
    reporter_unit_id: Mapped[str | None] = mapped_column(String(40))
    attachments: Mapped[list] = mapped_column(JSONB, default=list)
    step: Mapped[str] = mapped_column(String(20), default="discovered")
    # analyse (分析研判)
    finding: Mapped[str | None] = mapped_column(Text)
    within_authority: Mapped[bool | None] = mapped_column(Boolean)
    # the five in place (五到位, policy R23)
    responsible_unit_id: Mapped[str | None] = mapped_column(String(40))
    responsible_leader: Mapped[str | None] = mapped_column(String(60))
    responsible_person: Mapped[str | None] = mapped_column(String(60))
    solution: Mapped[str | None] = mapped_column(Text)
    time_limit_days: Mapped[int | None] = mapped_column(Integer)
    # 帮办 units (the responsible unit leads, 领办)
    assisting_unit_ids: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    # a deadline fixed by date instead of counted from the assignment day
    fixed_deadline: Mapped[date | None] = mapped_column(Date)
    assigned_on: Mapped[date | None] = mapped_column(Date)
    deadline: Mapped[date | None] = mapped_column(Date)
    deadline_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    # supervision (policy R24): 紧盯督办 once past the deadline
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    overdue_since: Mapped[date | None] = mapped_column(Date)
    close_supervision: Mapped[bool] = mapped_column(Boolean, default=False)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    # close-out (policy R25)
    closure_requested_on: Mapped[date | None] = mapped_column(Date)
    closure_summary: Mapped[str | None] = mapped_column(Text)
    redo_count: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[bool | None] = mapped_column(Boolean)
    closed_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now(), onupdate=clock.now
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # one supervision matter per overdue approval case and step, however often told
        Index(
            "uq_issues_source_ref",
            "source",
            "source_ref",
            unique=True,
            postgresql_where=text("source_ref IS NOT NULL"),
        ),
        # the overdue / supervision lists: open, assigned problems by deadline; the units
        # are included so a unit's list and its count are index-only scans
        Index(
            "ix_issues_open_deadline",
            "deadline",
            "id",
            postgresql_where=text("step = 'assigned'"),
            postgresql_include=["project_unit_id", "responsible_unit_id", "assisting_unit_ids"],
        ),
        # a unit sees the problems it assists with (帮办)
        Index("ix_issues_assisting_units", "assisting_unit_ids", postgresql_using="gin"),
        Index("ix_issues_unit_deadline", "responsible_unit_id", "deadline"),
        Index("ix_issues_step_created", "step", "created_at"),
    )


class SubTask(Base):
    """A sub-task of a decomposed problem (梳理分解): its own unit, person and deadline."""

    __tablename__ = "sub_tasks"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    issue_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[str] = mapped_column(String(40))
    # lead (领办) or assist (帮办)
    role: Mapped[str] = mapped_column(String(10))
    person: Mapped[str] = mapped_column(String(60))
    deadline: Mapped[date] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)


class Visit(Base):
    """A follow-up visit (跟踪回访) and the enterprise's verdict (policy R25)."""

    __tablename__ = "visits"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    issue_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    visitor: Mapped[str] = mapped_column(String(60))
    channel: Mapped[str] = mapped_column(String(20))
    visited_on: Mapped[date] = mapped_column(Date)
    satisfied: Mapped[bool] = mapped_column(Boolean)
    words: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )

    __table_args__ = (UniqueConstraint("issue_id", "round"),)


class Reminder(Base):
    """A reminder sent to a unit (before a deadline, overdue, a visit pending): one a day."""

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    issue_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    unit_id: Mapped[str] = mapped_column(String(40), index=True)
    # deadline_near | overdue | visit_pending
    kind: Mapped[str] = mapped_column(String(20))
    on: Mapped[date] = mapped_column(Date)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )

    __table_args__ = (UniqueConstraint("issue_id", "kind", "on"),)


class Meeting(Base):
    """A periodic consultation meeting (定期会诊, policy R26)."""

    __tablename__ = "meetings"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    title: Mapped[str] = mapped_column(String(200))
    held_on: Mapped[date] = mapped_column(Date)
    chair: Mapped[str] = mapped_column(String(60))
    attendee_unit_ids: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )


class AgendaItem(Base):
    """A problem on a meeting's agenda and the decision taken on it."""

    __tablename__ = "agenda_items"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    issue_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("meeting_id", "issue_id"),)
