"""Contracts of the approvals service's events (approval.*, calendar.year_changed)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from shared.contracts import EventContract


class _Case(EventContract):
    event_version: Literal[1] = 1
    case_id: uuid.UUID
    project_id: uuid.UUID
    project_code: str
    kind: str


class CaseOpenedV1(_Case):
    event_type = "approval.case_opened"

    unit_id: str
    fast_track: bool
    fast_track_basis: str | None  # key_project | office_decision
    acceptance_mode: str
    agency_unit_ids: list[str]


class StepCompletedV1(_Case):
    event_type = "approval.step_completed"

    unit_id: str
    step_code: str
    step_name: str
    agency_unit_id: str | None
    completed_on: date
    used_days: int
    limit_days: int | None
    on_time: bool | None


class StepOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    step_code: str
    used_days: int | None
    limit_days: int | None
    agency_unit_id: str | None
    on_time: bool | None


class CompletedV1(_Case):
    event_type = "approval.completed"

    unit_id: str
    completed_on: date
    working_days_used: int | None
    limit_days: int | None
    on_time: bool
    agency_unit_ids: list[str]
    steps: list[StepOutcome]


class RejectedV1(_Case):
    event_type = "approval.rejected"

    unit_id: str
    rejected_on: date | None
    step_code: str | None


class _Threshold(_Case):
    """policy R17/R19: a step's (or the whole chain's) time limit reached a threshold."""

    unit_id: str
    step_code: str | None
    step_name: str | None
    agency_unit_id: str | None
    due_date: date
    limit_days: int | None


class WarningV1(_Threshold):
    event_type = "approval.warning"

    days_left: int
    warning_reason: str


class OverdueV1(_Threshold):
    event_type = "approval.overdue"

    overdue_since: date


class MissingItemsOverdueV1(_Case):
    event_type = "approval.missing_items_overdue"

    items: list[str]
    due_date: date


class DeadlineChangedV1(_Case):
    event_type = "approval.deadline_changed"

    old_due_date: date | None
    new_due_date: date | None
    step_code: str | None
    old_step_due_date: date | None
    new_step_due_date: date | None
    provisional: bool
    reason: str


class CalendarYearChangedV1(EventContract):
    """policy R15: one year of the working-day calendar as now loaded (shared.calendar)."""

    event_type = "calendar.year_changed"

    event_version: Literal[1] = 1
    year: int
    off_days: list[date]
    working_days: list[date]
    official: bool
    source: str | None
    revision: int
    reason: str | None
