"""The approval clock (policy R15–R18): a pure function of the kind, the case's event log
and the working-day calendar.  No I/O: replaying the same log on the same calendar gives
the same answer every time, which is what recomputation (calendar loaded, late event)
relies on.

Conventions (docs/approvals.md):
* dates are business dates in Asia/Shanghai; the start day is not counted
  (``shared.calendar``);
* policy R16: each step's clock starts at the step's complete application (receipt; the
  window's own days to accept count) and stops at its decision; between a decision and the
  applicant's application for the next step the case is in the applicant's time (phase
  ``applicant``), which is never counted; the chain's used days are the sum of its steps';
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
from datetime import date

from services.approvals.clock_segment import PausedDays, finish_segment
from services.approvals.clock_types import (  # noqa: F401  (re-exported)
    EVENT_TYPES,
    OPEN_PHASES,
    STATUTORY_PAUSES,
    SUPPLEMENT,
    ApplicantTime,
    ClockResult,
    ImpossibleEvent,
    KindSpec,
    LogEvent,
    Pause,
    Segment,
    StepSpec,
    segment_json,
)
from shared.calendar import WorkingCalendar


class ApprovalClock:
    def __init__(self, kind: KindSpec, calendar: WorkingCalendar) -> None:
        self.kind = kind
        self.cal = calendar
        self.days = PausedDays(calendar)

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
    def allowed(
        self,
        phase: str,
        step_index: int,
        pause: Pause | None,
        deemed: bool,
        formally_accepted: bool,
        missing_open: bool,
    ) -> list[str]:
        last = step_index >= len(self.kind.steps) - 1
        extra = ["missing_items_supplied"] if missing_open else []
        if phase == "new":
            return ["submitted", "accepted", "rejected"]
        if phase == "applicant":  # policy R16: the applicant's time until the next application
            return ["submitted", "accepted", "rejected", *extra]
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

    def replay(
        self, events: list[LogEvent], as_of: date, *, missing_items_due: date | None = None
    ) -> ClockResult:
        """Run the log in (occurred_at, seq) order; raise ImpossibleEvent at the first bad one.

        Policy R16: each step's clock starts at the step's complete application (its receipt,
        or its acceptance when no receipt was logged) and stops at its decision; after a step
        the case is in the applicant's time (phase ``applicant``) until the next application.
        """
        k = self.kind
        phase, received, accepted, first_deemed = "new", None, None, False
        deemed = formal = False  # of the current step
        n = len(k.steps)
        step_i, step_starts, step_ends = 0, [None] * n, [None] * n
        applied: list[date | None] = [None] * n  # each step's first application
        step_receipt: date | None = None
        pauses: list[Pause] = []
        completed_on = rejected_on = supplied_on = None

        def deem_if_due(day: date) -> None:
            nonlocal phase, accepted, deemed, first_deemed
            if (
                phase == "submitted"
                and step_receipt is not None
                and self.cal.working_days_between(step_receipt, day) > k.supplement_window_days
            ):
                phase, deemed = "running", True
                if step_i == 0:
                    accepted, first_deemed = step_receipt, True

        def receive(day: date) -> None:
            nonlocal received, step_receipt
            step_receipt, step_starts[step_i] = day, day
            applied[step_i] = applied[step_i] or day
            if step_i == 0:
                received = day

        for ev in sorted(events, key=lambda e: (e.at, e.seq)):
            deem_if_due(ev.on)
            current_pause = pauses[-1] if pauses and pauses[-1].end is None else None
            allowed = self.allowed(
                phase,
                step_i,
                current_pause,
                deemed,
                formal,
                missing_items_due is not None and supplied_on is None,
            )
            state = phase if phase != "running" else f"running:{k.steps[step_i].code}"
            if ev.type not in allowed:
                raise ImpossibleEvent(
                    ev,
                    state,
                    allowed,
                    "approval.event_not_allowed",
                    f"案件当前状态（{state}）不允许事件 {ev.type}",
                )
            t = ev.type
            if (
                t in ("submitted", "accepted", "step_completed", "completed")
                and ev.step_code
                and ev.step_code != k.steps[step_i].code
            ):
                raise ImpossibleEvent(
                    ev,
                    state,
                    allowed,
                    "approval.wrong_step",
                    f"当前办理环节为 {k.steps[step_i].code}，不是 {ev.step_code}",
                )
            if t == "submitted":
                phase, deemed, formal = "submitted", False, False
                receive(ev.on)
            elif t == "accepted":
                if phase in ("new", "applicant", "submitted"):
                    if phase != "submitted":  # application and acceptance on the same day
                        deemed = False
                        receive(ev.on)
                    if step_i == 0:
                        accepted = ev.on
                    phase, formal = "running", True
                else:
                    formal = True  # formal acceptance after deemed acceptance: date unchanged
            elif t == "supplement_requested":
                if (
                    step_receipt is not None
                    and self.cal.working_days_between(step_receipt, ev.on) > k.supplement_window_days
                ):
                    raise ImpossibleEvent(
                        ev,
                        state,
                        [a for a in allowed if a != t],
                        "approval.supplement_too_late",
                        f"补正告知须在收件后 {k.supplement_window_days} 个工作日内一次性提出"
                        f"（收件日 {step_receipt.isoformat()}），逾期不予补正，视为已受理",
                    )
                if phase == "submitted":  # incomplete: the step starts at the complete one
                    phase, step_starts[step_i] = "awaiting_supplement", None
                else:
                    pauses.append(Pause(SUPPLEMENT, ev.on, None, ev.evidence_ref, k.steps[step_i].code))
                    phase = "paused"
            elif t == "supplement_received":
                if phase == "awaiting_supplement":
                    phase = "submitted"
                    receive(ev.on)
                else:
                    pauses[-1].end, phase = ev.on, "running"
            elif t == "paused":
                pauses.append(Pause(ev.reason or "", ev.on, None, ev.evidence_ref, k.steps[step_i].code))
                phase = "paused"
            elif t == "resumed":
                pauses[-1].end, phase = ev.on, "running"
            elif t in ("step_completed", "completed"):
                step_ends[step_i] = ev.on
                if step_i == n - 1:
                    phase, completed_on = "done", ev.on
                else:
                    step_i += 1
                    phase, step_receipt, deemed, formal = "applicant", None, False, False
            elif t == "rejected":
                phase, rejected_on = "rejected", ev.on
            elif t == "missing_items_supplied":
                supplied_on = ev.on
        deem_if_due(as_of)
        applicant = [
            ApplicantTime(k.steps[i].code, step_ends[i - 1], applied[i])
            for i in range(1, n)
            if step_ends[i - 1] is not None
        ]
        for a in applicant:
            a.working_days = self.cal.working_days_between(a.start, a.end or as_of)
        return self._result(
            phase,
            received,
            accepted,
            first_deemed,
            step_i,
            step_starts,
            step_ends,
            pauses,
            completed_on,
            rejected_on,
            supplied_on,
            as_of,
            applicant,
        )

    def _chain(
        self, steps: list[Segment], pauses: list[Pause], end: date | None, as_of: date, paused: bool
    ) -> Segment:
        """Policy R16: the chain counts the sum of its steps' counted days; its due date (and
        warning dates) is the day on which that sum reaches the limit, found in the step in
        which it is (or, for the step now counting, will be) reached."""
        k = self.kind
        chain = Segment(None, "全链条", None, k.total_limit_days, start=steps[0].start, end=end)
        if chain.start is None:
            return chain
        targets = {"limit": k.total_limit_days, **self.warn_thresholds(k.total_limit_days)}
        before, counting = 0, None
        for seg in steps:
            if seg.start is None:
                break
            mine = [p for p in pauses if p.step_code == seg.code]
            open_step = seg.end is None and end is None
            for key, target in targets.items():
                if before < target and (open_step or before + seg.used_days >= target):
                    d = self.days.nth(seg.start, target - before, mine)
                    if d is None:
                        continue
                    if key == "limit":
                        chain.due_date = d
                    else:
                        chain.warn_dates[key] = d
            before += seg.used_days
            if open_step:
                counting = seg
        chain.used_days, chain.left_days = before, k.total_limit_days - before
        chain.provisional = chain.due_date is not None and self.cal.is_provisional(chain.due_date)
        overdue = before > k.total_limit_days or (
            counting is not None
            and chain.due_date is not None
            and as_of > chain.due_date
            and counting.start is not None
            and counting.start < as_of
        )
        if end is not None:
            chain.state, chain.on_time = "done", before <= k.total_limit_days
        elif overdue:
            chain.state = "overdue"
        elif counting is None:
            chain.state = "applicant"  # between steps: the applicant's time, not counted
        elif paused:
            chain.state = "paused"
        elif any(as_of >= d for d in chain.warn_dates.values()):
            chain.state = "warning"
        else:
            chain.state = "running"
        return chain

    def _result(
        self,
        phase,
        received,
        accepted,
        deemed,
        step_i,
        step_starts,
        step_ends,
        pauses,
        completed_on,
        rejected_on,
        supplied_on,
        as_of,
        applicant,
    ) -> ClockResult:
        k = self.kind
        paused = phase == "paused"
        steps = []
        for i, s in enumerate(k.steps):
            seg = Segment(
                s.code, s.name, s.agency_unit_id, s.limit_days, start=step_starts[i], end=step_ends[i]
            )
            if rejected_on is not None and seg.start is not None and seg.end is None:
                seg.end = rejected_on
            mine = [p for p in pauses if p.step_code == s.code]
            finish_segment(
                self.days, seg, mine, as_of, paused and i == step_i, self.warn_thresholds(seg.limit_days)
            )
            steps.append(seg)
        chain = self._chain(steps, pauses, completed_on or rejected_on, as_of, paused)
        if phase == "rejected":
            chain.state = "rejected"
        if phase in ("done", "rejected", "new", "awaiting_supplement"):
            state = phase
        elif phase == "applicant":
            state = "overdue" if chain.state == "overdue" else "applicant"
        else:
            cur = steps[step_i].state
            levels = ["running", "warning", "overdue"]
            worst = max((chain.state, cur), key=lambda s: levels.index(s) if s in levels else -1)
            state = (
                "overdue"
                if "overdue" in (chain.state, cur)
                else (
                    "paused"
                    if paused
                    else "submitted"
                    if phase == "submitted"
                    else worst
                    if worst in levels
                    else "running"
                )
            )
        current = k.steps[step_i].code if phase not in ("new", "done", "rejected") else None
        return ClockResult(
            phase,
            state,
            received,
            accepted,
            deemed,
            current,
            completed_on,
            rejected_on,
            chain,
            steps,
            pauses,
            supplied_on,
            applicant,
        )
