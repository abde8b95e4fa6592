"""The approval clock's data (policy R15–R18): kind specs, log events, pauses, segments,
the applicant's time and the replay's result; ``clock.py`` computes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

# policy R18: the default list of reasons that stop the clock — the exclusions of
# 行政许可法 art. 45 (听证、招标、拍卖、检验、检测、检疫、鉴定、专家评审); 补正 is separate.
# The list in force is configuration (``approvals_settings().pause_reasons``).
STATUTORY_PAUSES = {
    "hearing": "听证",
    "bidding": "招标",
    "auction": "拍卖",
    "inspection": "检验",
    "testing": "检测",
    "quarantine": "检疫",
    "appraisal": "鉴定",
    "expert_review": "专家评审",
}
SUPPLEMENT = "supplement"
EVENT_TYPES = (
    "submitted",
    "accepted",
    "supplement_requested",
    "supplement_received",
    "paused",
    "resumed",
    "step_completed",
    "completed",
    "rejected",
    "missing_items_supplied",
)
OPEN_PHASES = ("new", "submitted", "awaiting_supplement", "running", "paused", "applicant")


@dataclass(frozen=True)
class StepSpec:
    code: str
    name: str
    limit_days: int
    agency_unit_id: str


@dataclass(frozen=True)
class KindSpec:
    code: str
    steps: tuple[StepSpec, ...]
    total_limit_days: int
    warn_share: float = 0.8
    warn_days_left: int = 3
    supplement_window_days: int = 5


@dataclass(frozen=True)
class LogEvent:
    seq: int
    event_id: str
    type: str
    on: date  # business date of occurred_at
    at: datetime
    step_code: str | None = None
    reason: str | None = None
    evidence_ref: str | None = None


class ImpossibleEvent(Exception):
    """An event the case's state does not allow (→ 409 naming state and allowed events)."""

    def __init__(self, event: LogEvent, state: str, allowed: list[str], code: str, detail: str):
        super().__init__(detail)
        self.event, self.state, self.allowed, self.code, self.detail = event, state, allowed, code, detail


@dataclass
class Pause:
    reason: str
    start: date
    end: date | None
    evidence_ref: str | None
    step_code: str | None


@dataclass
class Segment:
    """The clock of one step or of the whole chain."""

    code: str | None
    name: str
    agency_unit_id: str | None
    limit_days: int
    start: date | None = None
    end: date | None = None  # completion day
    used_days: int = 0
    left_days: int = 0
    due_date: date | None = None
    warn_dates: dict[str, date] = field(default_factory=dict)  # reason → date
    state: str = "pending"  # pending | running | paused | warning | overdue | done
    on_time: bool | None = None
    provisional: bool = False


@dataclass
class ApplicantTime:
    """Policy R16: from a step's decision to the application for the next step — the
    applicant's time (e.g. the construction between permit and acceptance), never counted."""

    before_step: str
    start: date
    end: date | None  # the next step's application (None: not applied yet)
    working_days: int = 0  # shown for information only


@dataclass
class ClockResult:
    phase: str
    state: str
    received_on: date | None
    accepted_on: date | None
    deemed_accepted: bool
    current_step: str | None
    completed_on: date | None
    rejected_on: date | None
    chain: Segment
    steps: list[Segment]
    pauses: list[Pause]
    missing_items_supplied_on: date | None
    applicant_time: list[ApplicantTime] = field(default_factory=list)


def segment_json(seg: Segment) -> dict[str, Any]:
    return {
        "step_code": seg.code,
        "step_name": seg.name,
        "agency_unit_id": seg.agency_unit_id,
        "limit_days": seg.limit_days,
        "started_on": seg.start,
        "completed_on": seg.end,
        "used_days": seg.used_days,
        "left_days": seg.left_days,
        "due_date": seg.due_date,
        "due_provisional": seg.provisional,
        "warning_dates": dict(seg.warn_dates),
        "state": seg.state,
        "on_time": seg.on_time,
    }
