"""Counting one segment of an approval clock (policy R15–R18): working days between two
dates less paused ones, the day a count is reached, and the segment's state on a day."""

from __future__ import annotations

from datetime import date

from services.approvals.clock_types import Pause, Segment
from shared.calendar import WorkingCalendar


class PausedDays:
    """Working days counted on the one calendar, less the days a pause stopped the clock."""

    def __init__(self, calendar: WorkingCalendar) -> None:
        self.cal = calendar

    def used(self, start: date, until: date, pauses: list[Pause]) -> int:
        if until <= start:
            return 0
        used = self.cal.working_days_between(start, until)
        for p in pauses:
            a, b = max(p.start, start), min(p.end or until, until)
            if b > a:
                used -= self.cal.working_days_between(a, b)
        return used

    def nth(self, start: date, n: int, pauses: list[Pause]) -> date | None:
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


def finish_segment(
    days: PausedDays, seg: Segment, pauses: list[Pause], as_of: date, paused: bool, warn: dict[str, int]
) -> None:
    """Fill a segment's used/left days, due and warning dates and state as of a day."""
    if seg.start is None:
        return
    until = seg.end if seg.end is not None else as_of
    mine = [p for p in pauses if p.start >= seg.start and (seg.end is None or p.start <= seg.end)]
    seg.used_days = days.used(seg.start, until, mine)
    seg.left_days = seg.limit_days - seg.used_days
    closed = [p for p in mine if p.end is not None]
    open_pause = next((p for p in mine if p.end is None), None)
    due = days.nth(seg.start, seg.limit_days, mine)
    due_if_running = None
    if due is None and open_pause is not None:
        due_if_running = days.nth(seg.start, seg.limit_days, closed)
        overdue = due_if_running is not None and open_pause.start > due_if_running
    else:
        overdue = due is not None and until > due
    # paused after the deadline had passed: show the deadline that was missed
    seg.due_date = due if due is not None or not overdue else due_if_running
    seg.provisional = due is not None and days.cal.is_provisional(due)
    for reason, n in warn.items():
        d = days.nth(seg.start, n, mine)
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
