"""The approval clock (policy R15–R18): a pure function of the kind, the case's event log
and the working-day calendar.  No I/O: replaying the same log on the same calendar gives
the same answer every time, which is what recomputation (calendar loaded, late event)
relies on.

Conventions (docs/approvals.md):
* dates are business dates in Asia/Shanghai; the start day is not counted
  (``shared.calendar``);
* the chain's clock starts at acceptance (受理); step 1 starts there too, step n+1 starts
  on the day step n completes;
* a pause from day P resumed on day R excludes the working days in (P, R];
* "used" on day X counts the working days in (start, X] minus paused ones; the due date is
  the day on which ``used`` reaches the limit; overdue from the calendar day after it;
* deemed acceptance (Administrative Licensing Law art. 32): an application not accepted
  and not sent back for 补正 within ``supplement_window`` working days of receipt counts as
  accepted on the day of receipt; a 补正 request later than that window (also for a later
  step, counted from the step's receipt) is refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from shared.calendar import WorkingCalendar

STATUTORY_PAUSES = {
    "hearing": "听证",
    "expert_review": "专家评审",
    "inspection": "检验",
    "testing": "检测",
    "appraisal": "鉴定",
    "public_notice": "公示",
}
SUPPLEMENT = "supplement"
EVENT_TYPES = (
    "submitted", "accepted", "supplement_requested", "supplement_received", "paused", "resumed",
    "step_completed", "completed", "rejected", "missing_items_supplied",
)
OPEN_PHASES = ("new", "submitted", "awaiting_supplement", "running", "paused")


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


class ApprovalClock:
    def __init__(self, kind: KindSpec, calendar: WorkingCalendar) -> None:
        self.kind = kind
        self.cal = calendar

    # -- counting with pauses ----------------------------------------------------------------
    def _used(self, start: date, until: date, pauses: list[Pause]) -> int:
        if until <= start:
            return 0
        used = self.cal.working_days_between(start, until)
        for p in pauses:
            a, b = max(p.start, start), min(p.end or until, until)
            if b > a:
                used -= self.cal.working_days_between(a, b)
        return used

    def _nth(self, start: date, n: int, pauses: list[Pause]) -> date | None:
        """The day on which ``used`` reaches n (None while an open pause stops the clock)."""
        cursor, remaining = start, n
        for p in sorted(pauses, key=lambda p: p.start):
            if p.start < cursor:
                if p.end is None:
                    return None
                cursor = max(cursor, p.end)
                continue
            before = self.cal.working_days_between(cursor, p.start)
            if before >= remaining:
                break
            remaining -= before
            if p.end is None:
                return None
            cursor = p.end
        return self.cal.add_working_days(cursor, max(remaining, 0)) if remaining > 0 else cursor

    def _finish(self, seg: Segment, pauses: list[Pause], as_of: date, paused: bool) -> None:
        if seg.start is None:
            return
        until = seg.end if seg.end is not None else as_of
        mine = [p for p in pauses if p.start >= seg.start and (seg.end is None or p.start <= seg.end)]
        seg.used_days = self._used(seg.start, until, mine)
        seg.left_days = seg.limit_days - seg.used_days
        closed = [p for p in mine if p.end is not None]
        open_pause = next((p for p in mine if p.end is None), None)
        due = self._nth(seg.start, seg.limit_days, mine)
        due_if_running = None
        if due is None and open_pause is not None:
            due_if_running = self._nth(seg.start, seg.limit_days, closed)
            overdue = due_if_running is not None and open_pause.start > due_if_running
        else:
            overdue = due is not None and until > due
        # paused after the deadline had passed: show the deadline that was missed
        seg.due_date = due if due is not None or not overdue else due_if_running
        seg.provisional = due is not None and self.cal.is_provisional(due)
        for reason, n in self.warn_thresholds(seg.limit_days).items():
            d = self._nth(seg.start, n, mine)
            if d is not None:
                seg.warn_dates[reason] = d
        if seg.end is not None:
            seg.state, seg.on_time = "done", seg.used_days <= seg.limit_days and not overdue
        elif overdue:
            seg.state = "overdue"
        elif paused:
            seg.state = "paused"
        elif any(as_of >= d for d in seg.warn_dates.values()):
            seg.state = "warning"
        else:
            seg.state = "running"

    def warn_thresholds(self, limit: int) -> dict[str, int]:
        """Used-day counts at which a warning is due: a share of the limit and N days left."""
        share = max(1, math.ceil(self.kind.warn_share * limit - 1e-9))
        days_left = max(1, limit - self.kind.warn_days_left)
        out: dict[str, int] = {}
        if share <= limit:
            out["share"] = share
        if days_left <= limit and days_left != share:
            out["days_left"] = days_left
        return out

    # -- the replay --------------------------------------------------------------------------
    def allowed(self, phase: str, step_index: int, pause: Pause | None, deemed: bool,
                formally_accepted: bool, missing_open: bool) -> list[str]:
        last = step_index >= len(self.kind.steps) - 1
        extra = ["missing_items_supplied"] if missing_open else []
        if phase == "new":
            return ["submitted", "accepted", "rejected"]
        if phase == "submitted":
            return ["accepted", "supplement_requested", "rejected"]
        if phase == "awaiting_supplement":
            return ["supplement_received", "rejected"]
        if phase == "running":
            out = ["supplement_requested", "paused", "step_completed"]
            if last:
                out.append("completed")
            if deemed and not formally_accepted:
                out.append("accepted")
            return [*out, "rejected", *extra]
        if phase == "paused":
            resume = "supplement_received" if pause and pause.reason == SUPPLEMENT else "resumed"
            return [resume, "rejected", *extra]
        if phase == "done":
            return extra
        return []

    def replay(self, events: list[LogEvent], as_of: date, *, missing_items_due: date | None = None
               ) -> ClockResult:
        """Run the log in (occurred_at, seq) order; raise ImpossibleEvent at the first bad one."""
        k = self.kind
        phase, received, accepted, deemed, formal = "new", None, None, False, False
        step_i, step_starts, step_ends = 0, [None] * len(k.steps), [None] * len(k.steps)
        step_receipt: date | None = None
        pauses: list[Pause] = []
        completed_on = rejected_on = supplied_on = None

        def deem_if_due(day: date) -> None:
            nonlocal phase, accepted, deemed
            if phase == "submitted" and received is not None and \
                    self.cal.working_days_between(received, day) > k.supplement_window_days:
                phase, accepted, deemed = "running", received, True
                step_starts[0] = received

        for ev in sorted(events, key=lambda e: (e.at, e.seq)):
            deem_if_due(ev.on)
            current_pause = pauses[-1] if pauses and pauses[-1].end is None else None
            allowed = self.allowed(phase, step_i, current_pause, deemed, formal,
                                   missing_items_due is not None and supplied_on is None)
            state = phase if phase != "running" else f"running:{k.steps[step_i].code}"
            if ev.type not in allowed:
                raise ImpossibleEvent(ev, state, allowed, "approval.event_not_allowed",
                                      f"案件当前状态（{state}）不允许事件 {ev.type}")
            t = ev.type
            if t == "submitted":
                phase, received, step_receipt = "submitted", ev.on, ev.on
            elif t == "accepted":
                if phase in ("new", "submitted"):
                    received = received or ev.on
                    step_receipt = step_receipt or ev.on
                    phase, accepted, formal = "running", ev.on, True
                    step_starts[0] = ev.on
                else:
                    formal = True  # formal acceptance after deemed acceptance: date unchanged
            elif t == "supplement_requested":
                receipt = received if phase == "submitted" else step_receipt
                if receipt is not None and \
                        self.cal.working_days_between(receipt, ev.on) > k.supplement_window_days:
                    raise ImpossibleEvent(
                        ev, state, [a for a in allowed if a != t], "approval.supplement_too_late",
                        f"补正告知须在收件后 {k.supplement_window_days} 个工作日内一次性提出"
                        f"（收件日 {receipt.isoformat()}），逾期不予补正，视为已受理")
                if phase == "submitted":
                    phase = "awaiting_supplement"
                else:
                    pauses.append(Pause(SUPPLEMENT, ev.on, None, ev.evidence_ref, k.steps[step_i].code))
                    phase = "paused"
            elif t == "supplement_received":
                if phase == "awaiting_supplement":
                    phase, received, step_receipt = "submitted", ev.on, ev.on
                else:
                    pauses[-1].end, phase = ev.on, "running"
            elif t == "paused":
                pauses.append(Pause(ev.reason or "", ev.on, None, ev.evidence_ref, k.steps[step_i].code))
                phase = "paused"
            elif t == "resumed":
                pauses[-1].end, phase = ev.on, "running"
            elif t in ("step_completed", "completed"):
                code = ev.step_code or k.steps[step_i].code
                if code != k.steps[step_i].code:
                    raise ImpossibleEvent(ev, state, allowed, "approval.wrong_step",
                                          f"当前办理环节为 {k.steps[step_i].code}，不是 {code}")
                step_ends[step_i] = ev.on
                if step_i == len(k.steps) - 1:
                    phase, completed_on = "done", ev.on
                else:
                    step_i += 1
                    step_starts[step_i], step_receipt = ev.on, ev.on
            elif t == "rejected":
                phase, rejected_on = "rejected", ev.on
            elif t == "missing_items_supplied":
                supplied_on = ev.on
        deem_if_due(as_of)
        return self._result(phase, received, accepted, deemed, step_i, step_starts, step_ends,
                            pauses, completed_on, rejected_on, supplied_on, as_of)

    def _result(self, phase, received, accepted, deemed, step_i, step_starts, step_ends, pauses,
                completed_on, rejected_on, supplied_on, as_of) -> ClockResult:
        k = self.kind
        end_of_chain = completed_on or rejected_on
        paused = phase == "paused"
        chain = Segment(None, "全链条", None, k.total_limit_days, start=accepted, end=end_of_chain)
        self._finish(chain, pauses, as_of, paused)
        steps = []
        for i, s in enumerate(k.steps):
            seg = Segment(s.code, s.name, s.agency_unit_id, s.limit_days,
                          start=step_starts[i], end=step_ends[i])
            if rejected_on is not None and seg.start is not None and seg.end is None:
                seg.end = rejected_on
            self._finish(seg, pauses, as_of, paused and i == step_i)
            steps.append(seg)
        if phase == "rejected":
            chain.state = "rejected"
        if phase in ("done", "rejected"):
            state = phase
        elif phase in ("new", "submitted", "awaiting_supplement"):
            state = phase
        else:
            cur = steps[step_i].state
            levels = ["running", "warning", "overdue"]
            worst = max((chain.state, cur), key=lambda s: levels.index(s) if s in levels else -1)
            state = "overdue" if "overdue" in (chain.state, cur) else (
                "paused" if paused else worst if worst in levels else "running")
        current = k.steps[step_i].code if phase in ("running", "paused") else None
        return ClockResult(phase, state, received, accepted, deemed, current, completed_on,
                           rejected_on, chain, steps, pauses, supplied_on)


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
