"""Business dates and working-day counting for problems (policy R24), on the shared calendar."""

from __future__ import annotations

from datetime import date

from shared.calendar import WorkingCalendar, load_calendar
from shared.clock import now, today  # problems read the time only through here

# reminders go out this many working days before a deadline (and on the day itself)
REMIND_BEFORE_DAYS = (3, 1, 0)
# a visit still pending this many working days after closure was requested is reminded daily
VISIT_GRACE_DAYS = 2
# every further 5 working days past the deadline raise the escalation level by one
ESCALATE_EVERY_DAYS = 5

__all__ = ["now", "today", "calendar", "days_left", "deadline_for"]


async def calendar() -> WorkingCalendar:
    """The calendar as the approvals service last gave it (``load_calendar``)."""
    return await load_calendar()


def days_left(cal: WorkingCalendar, on: date, deadline: date | None) -> int | None:
    """Working days left until the deadline (0 on the day), negative = working days overdue."""
    if deadline is None:
        return None
    return cal.working_days_between(on, deadline)


def deadline_for(
    cal: WorkingCalendar, *, assigned_on: date, limit_days: int | None, fixed: date | None
) -> date | None:
    """The deadline: a fixed date, else ``limit_days`` working days after the assignment."""
    if fixed is not None:
        return fixed
    if limit_days is None:
        return None
    return cal.add_working_days(assigned_on, limit_days)
