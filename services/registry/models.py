"""The registry's schema: the project library (policy R1–R14)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    cast,
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared import clock
from shared.db import make_base
from shared.events import EventPipeline
from shared.money import MONEY_SQL

Base = make_base("registry")
pipeline = EventPipeline("registry", Base.metadata)


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # 项目代码, policy R14 (GB/T 40058-2021 or the older dashed form)
    project_code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # the township or department in charge
    unit_id: Mapped[str] = mapped_column(String(40))
    # 项目承载单位 and its unified social credit code (GB 32100-2015)
    carrying_unit_name: Mapped[str | None] = mapped_column(String(200))
    carrying_unit_credit_code: Mapped[str | None] = mapped_column(String(18), index=True)
    contact_leader: Mapped[str | None] = mapped_column(String(60))  # 包联领导
    # the "four ones": one team, one plan, one follow-through owner
    team: Mapped[str | None] = mapped_column(String(200))
    work_plan: Mapped[str | None] = mapped_column(Text)
    follow_owner: Mapped[str | None] = mapped_column(String(60))
    category: Mapped[str] = mapped_column(String(20))
    total_investment: Mapped[Decimal] = mapped_column(MONEY_SQL)
    government_investment: Mapped[bool] = mapped_column(Boolean, default=False)
    scale_band: Mapped[str] = mapped_column(String(10))  # policy R3, derived
    # current sub-library memberships, e.g. {"annual", "annual:new", "key", "key:county"}
    lib_tags: Mapped[list[str]] = mapped_column(ARRAY(String(24)), default=list)
    stage: Mapped[str] = mapped_column(String(20), default="signed")
    stage_dates: Mapped[dict] = mapped_column(JSONB, default=dict)  # stage → first date reached
    start_conditions_met_on: Mapped[date | None] = mapped_column(Date)
    # policy R13: how the project was authorised — 核准 (approval) or 备案 (filing) — at which
    # level and by which authority; use-it-or-lose-it applies to county-level ones only
    approval_kind: Mapped[str | None] = mapped_column(String(10))
    approval_level: Mapped[str | None] = mapped_column(String(12))
    approval_authority: Mapped[str | None] = mapped_column(String(200))
    planned_start: Mapped[date | None] = mapped_column(Date)
    planned_finish: Mapped[date | None] = mapped_column(Date)
    actual_start: Mapped[date | None] = mapped_column(Date)
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    major_industrial: Mapped[bool] = mapped_column(Boolean, default=False)  # policy R10
    operation_started_on: Mapped[date | None] = mapped_column(Date)  # 投运 (policy R10)
    capacity_reached_on: Mapped[date | None] = mapped_column(Date)  # 达产达效
    # latest monthly report (policy R6), kept here so lists need no join
    last_report_month: Mapped[str | None] = mapped_column(String(7))
    last_progress_pct: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    last_cumulative_investment: Mapped[Decimal | None] = mapped_column(MONEY_SQL)
    # policy R13: none | warned | due | revoked
    revocation_state: Mapped[str | None] = mapped_column(String(10))
    revocation_due_on: Mapped[date | None] = mapped_column(Date)
    revoked_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, onupdate=clock.now, server_default=func.now()
    )

    memberships: Mapped[list[Membership]] = relationship(
        lazy="selectin", order_by="Membership.since", cascade="all, delete-orphan"
    )
    targets: Mapped[list[Target]] = relationship(
        lazy="selectin", order_by="Target.due_on", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_projects_unit_id_created_at", "unit_id", "created_at"),
        # the list's order (created_at DESC, id DESC), read backwards
        Index("ix_projects_created_at", "created_at", "id"),
        Index("ix_projects_tags", "tags", postgresql_using="gin"),
    )


# The current memberships plus "u:<unit>", GIN-indexed: the list's usual filter (library and
# unit) is one index lookup that intersects the two (no lib tag starts with "u:").
SCOPE_TAGS = func.array_append(
    Project.__table__.c.lib_tags,
    cast(literal_column("'u:'", String) + Project.__table__.c.unit_id, String(40)),
    type_=ARRAY(String(40)),
)
# the index's expression is SCOPE_TAGS as PostgreSQL spells it back (so migrations compare)
Index(
    "ix_projects_scope_tags",
    text("array_append(lib_tags, (('u:'::text || unit_id::text))::character varying(40))"),
    _table=Project.__table__,
    postgresql_using="gin",
)


class Membership(Base):
    """A sub-library membership with the date it began and ended (policy R1, R2)."""

    __tablename__ = "memberships"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    library: Mapped[str] = mapped_column(String(10))  # reserve | annual | key
    kind: Mapped[str | None] = mapped_column(String(10))  # new | continued
    level: Mapped[str | None] = mapped_column(String(12))  # provincial | municipal | county
    since: Mapped[date] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        Index("ix_memberships_project_id", "project_id"),
        Index("ix_memberships_library_since", "library", "since"),
        Index(
            "uq_memberships_open",
            "project_id",
            "library",
            unique=True,
            postgresql_where=text("until IS NULL"),
        ),
    )


class StageChange(Base):
    """One dated lifecycle transition (policy R8); also in the audit log."""

    __tablename__ = "stage_changes"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str] = mapped_column(String(20))
    on_date: Mapped[date] = mapped_column(Date)
    actor: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )


class Target(Base):
    """A named dated target of a project (policy R11)."""

    __tablename__ = "targets"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))  # start | progress | complete | custom
    due_on: Mapped[date] = mapped_column(Date)
    threshold_pct: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    met_on: Mapped[date | None] = mapped_column(Date)


class MilestoneRecord(Base):
    """A R10 milestone recorded met or missed by the daily job once its outcome is known."""

    __tablename__ = "milestone_records"

    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(10), primary_key=True)  # build | operate | capacity
    due_on: Mapped[date] = mapped_column(Date)
    reached_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10))  # met | missed
    recorded_on: Mapped[date] = mapped_column(Date)

    __table_args__ = (Index("ix_milestone_records_status", "status", "project_id"),)


class ProgressReport(Base):
    """A monthly report (policy R6); a correction is a new version of the same month."""

    __tablename__ = "progress_reports"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    month: Mapped[str] = mapped_column(String(7))
    version: Mapped[int] = mapped_column(Integer)
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    investment_month: Mapped[Decimal] = mapped_column(MONEY_SQL)
    cumulative_investment: Mapped[Decimal] = mapped_column(MONEY_SQL)
    exceeds_total: Mapped[bool] = mapped_column(Boolean, default=False)
    progress_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    milestone: Mapped[str | None] = mapped_column(Text)
    problems: Mapped[str | None] = mapped_column(Text)
    reporter: Mapped[str] = mapped_column(String(120))
    reporter_name: Mapped[str | None] = mapped_column(String(120))
    correction_reason: Mapped[str | None] = mapped_column(Text)
    on_time: Mapped[bool] = mapped_column(Boolean)
    reported_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )

    __table_args__ = (
        UniqueConstraint("project_id", "month", "version"),
        Index(
            "uq_progress_reports_current",
            "project_id",
            "month",
            unique=True,
            postgresql_where=text("current"),
        ),
    )


class Photo(Base):
    """A progress photo stored on disk under its SHA-256 (policy R6, R7)."""

    __tablename__ = "photos"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    month: Mapped[str] = mapped_column(String(7))
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str | None] = mapped_column(String(200))
    uploaded_by: Mapped[str] = mapped_column(String(120))
    uploaded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )


class Document(Base):
    """A project document (approval reply, certificate, contract) in its file (policy R7),
    stored on disk under its SHA-256 like the photos."""

    __tablename__ = "documents"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    doc_type: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str | None] = mapped_column(String(200))
    issued_on: Mapped[date | None] = mapped_column(Date)
    doc_number: Mapped[str | None] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(80))
    size: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str | None] = mapped_column(String(200))
    uploaded_by: Mapped[str] = mapped_column(String(120))
    uploaded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )


class MissingReport(Base):
    """A project in a library without its month's report after the deadline (policy R6)."""

    __tablename__ = "missing_reports"

    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    flagged_on: Mapped[date] = mapped_column(Date)
    resolved_on: Mapped[date | None] = mapped_column(Date)


class Plan(Base):
    """A year's declared plan targets (policy R4), kept exactly as declared."""

    __tablename__ = "plans"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    declared: Mapped[dict] = mapped_column(JSONB)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, onupdate=clock.now, server_default=func.now()
    )

    __mapper_args__ = {"version_id_col": version}


class JobRun(Base):
    """One row per daily job and day: the job runs once per day across worker replicas."""

    __tablename__ = "job_runs"

    job: Mapped[str] = mapped_column(String(40), primary_key=True)
    run_on: Mapped[date] = mapped_column(Date, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )
    result: Mapped[dict | None] = mapped_column(JSONB)
