"""Contracts of the issues service's events (issue.*)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from shared.contracts import EventContract


class _Issue(EventContract):
    """The issue as it stands after the step (services/issues/service.py event_payload)."""

    event_version: Literal[1] = 1
    issue_id: uuid.UUID
    project_id: uuid.UUID | None
    project_code: str | None
    unit_id: str | None
    kind: str
    source: str
    step: str
    deadline: date | None
    overdue: bool
    close_supervision: bool
    redo_count: int
    satisfied: bool | None
    occurred_at: datetime


class IssueCreatedV1(_Issue):
    event_type = "issue.created"

    source_ref: str | None = None


class IssueAssignedV1(_Issue):
    event_type = "issue.assigned"


class IssueOverdueV1(_Issue):
    event_type = "issue.overdue"

    overdue_since: date


class IssueClosureRequestedV1(_Issue):
    event_type = "issue.closure_requested"


class IssueClosedV1(_Issue):
    event_type = "issue.closed"


class IssueReopenedV1(_Issue):
    event_type = "issue.reopened"
