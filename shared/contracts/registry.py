"""Contracts of the registry's events (project.*)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from shared.contracts import EventContract

# policy R8: the registry's lifecycle 签约→落地→开工→在建→竣工→达效, the only stage names
# a project.* event carries (services/registry/codes.py STAGES, checked by a test)
ProjectStage = Literal["signed", "landed", "started", "under_construction", "completed", "effective"]
STAGE_ORDER: tuple[str, ...] = ("signed", "landed", "started", "under_construction", "completed", "effective")


class Library(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    library: str
    kind: str | None
    level: str | None
    since: date | None
    until: date | None


class ProjectSnapshotV1(EventContract):
    """The project as the registry's API shows it (ProjectOut)."""

    event_version: Literal[1] = 1
    id: uuid.UUID
    project_code: str
    code_form: str
    name: str
    unit_id: str
    carrying_unit_name: str | None
    carrying_unit_credit_code: str | None
    contact_leader: str | None
    team: str | None
    work_plan: str | None
    follow_owner: str | None
    category: str
    total_investment: Decimal
    government_investment: bool
    scale_band: str
    libraries: list[Library]
    stage: ProjectStage
    stage_dates: dict[ProjectStage, date]
    start_conditions_met_on: date | None
    approval_kind: str | None
    approval_level: str | None
    approval_authority: str | None
    planned_start: date | None
    planned_finish: date | None
    actual_start: date | None
    operation_started_on: date | None
    capacity_reached_on: date | None
    tags: list[str]
    major_industrial: bool
    milestones: list[dict[str, Any]]
    targets: list[dict[str, Any]]
    latest_progress: dict[str, Any] | None
    revocation: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime


class ProjectCreatedV1(ProjectSnapshotV1):
    event_type = "project.created"


class ProjectUpdatedV1(ProjectSnapshotV1):
    event_type = "project.updated"


class ProjectStageChangedV1(ProjectSnapshotV1):
    event_type = "project.stage_changed"

    from_stage: ProjectStage | None
    to_stage: ProjectStage
    on: date


class ProgressReportedV1(EventContract):
    event_type = "project.progress_reported"

    event_version: Literal[1] = 1
    project_id: uuid.UUID
    project_code: str
    unit_id: str
    month: str
    investment_month: Decimal
    cumulative_investment: Decimal
    progress_pct: Decimal
    reported_at: datetime
    on_time: bool
    version: int


class ReportMissingV1(EventContract):
    event_type = "project.report_missing"

    event_version: Literal[1] = 1
    project_id: uuid.UUID
    unit_id: str
    month: str
    deadline: date


class _Revocation(EventContract):
    event_version: Literal[1] = 1
    project_id: uuid.UUID
    project_code: str
    unit_id: str
    conditions_met_on: date | None
    due_on: date | None


class RevocationWarningV1(_Revocation):
    event_type = "project.revocation_warning"


class RevocationDueV1(_Revocation):
    event_type = "project.revocation_due"


class RevokedV1(_Revocation):
    event_type = "project.revoked"

    revoked_on: date
    revoke_approval: bool
    revoke_land_quota: bool
    reason: str


class _Milestone(EventContract):
    event_version: Literal[1] = 1
    project_id: uuid.UUID
    project_code: str
    unit_id: str
    milestone: Literal["build", "operate", "capacity"]
    label: str
    due_on: date
    reached_on: date | None
    status: Literal["met", "missed"]


class MilestoneMetV1(_Milestone):
    event_type = "project.milestone_met"


class MilestoneMissedV1(_Milestone):
    event_type = "project.milestone_missed"
