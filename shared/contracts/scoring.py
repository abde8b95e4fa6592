"""Contracts of the scoring service's events (assignment.*, notice.*, summons.*,
assessment.*): the resource as scoring's API shows it; only the gateway's webhooks
consume them."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Literal

from shared.contracts import EventContract


class _Assignment(EventContract):
    event_version: Literal[1] = 1
    id: uuid.UUID
    letter_no: str | None
    task: str
    unit_id: str
    issued_on: date
    deadline: date
    source: str
    source_ref: str | None
    project_id: uuid.UUID | None
    status: str
    completed_on: date | None
    completion_note: str | None
    judged_on: date | None
    judgement_reason: str | None
    version: int


class AssignmentIssuedV1(_Assignment):
    event_type = "assignment.issued"


class AssignmentCompletedV1(_Assignment):
    event_type = "assignment.completed"


class AssignmentJudgedV1(_Assignment):
    event_type = "assignment.judged"


class NoticeIssuedV1(EventContract):
    """policy R28: 通报 of a township or department for an assignment."""

    event_type = "notice.issued"

    event_version: Literal[1] = 1
    id: uuid.UUID
    assignment_id: uuid.UUID
    unit_id: str
    month: str
    ordinal: int
    reason: str
    level: str
    issued_on: date
    task: str
    deadline: date
    level_name: str


class _Summons(EventContract):
    event_version: Literal[1] = 1
    id: uuid.UUID
    notice_id: uuid.UUID
    assignment_id: uuid.UUID
    unit_id: str
    month: str
    level: str
    summoner: str
    summoner_name: str | None
    summoned: str
    issued_on: date
    due_by: date
    held_on: date | None
    outcome: str | None
    status: str


class SummonsIssuedV1(_Summons):
    event_type = "summons.issued"


class SummonsHeldV1(_Summons):
    event_type = "summons.held"


class _Assessment(EventContract):
    event_version: Literal[1] = 1
    month: str
    status: str
    revision: int
    rubric_ids: dict[str, str]  # unit kind → rubric id
    inputs_digest: str
    scores: dict[str, Any]


class AssessmentDraftedV1(_Assessment):
    event_type = "assessment.drafted"


class AssessmentPublishedV1(_Assessment):
    event_type = "assessment.published"

    units: list[dict[str, Any]]
