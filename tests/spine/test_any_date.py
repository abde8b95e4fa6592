"""The platform on any date (architecture: "One clock"): an approval and a problem walked
across three awkward moments, every expected date worked out by hand below.

- Mon 2027-01-04: a year without official data in chinese-calendar 1.11.0 (provisional:
  weekends and 1 Jan off);
- 2026-12-31 16:30 UTC: already Fri 2027-01-01 (元旦) in Shanghai, the business date;
- Tue 2028-02-29: a leap day, provisional too; its counting runs into March.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest

from services.approvals.jobs import clock_due
from services.issues.jobs import sweep_supervision
from shared import clock
from shared.calendar import clear_calendar_cache
from tests.approvals.conftest import hall as hall_fixture
from tests.approvals.conftest import outbox_events
from tests.issues.conftest import make_project, report, walk_to_assigned

hall = hall_fixture  # the service hall's helper, shared with the approvals tests

# (moment, business date, step due (3 wd), chain due (20 wd), sweep moment, overdue since)
WALKS = [
    # Jan 5, 6, 7 = 1–3; chain: Jan 5–8 = 4, … 25–29 = 19, Mon Feb 1 = 20
    (
        "2027-01-04T10:30:00+08:00",
        "2027-01-04",
        "2027-01-07",
        "2027-02-01",
        "2027-01-08T09:00:00+08:00",
        "2027-01-08",
    ),
    # business date Fri 1 Jan (off); Jan 4, 5, 6 = 1–3; chain: Jan 4–8 = 5, … 25–29 = 20
    (
        "2026-12-31T16:30:00+00:00",
        "2027-01-01",
        "2027-01-06",
        "2027-01-29",
        "2027-01-07T09:00:00+08:00",
        "2027-01-07",
    ),
    # Mar 1, 2, 3 = 1–3; chain: Mar 1–3 = 3, 6–10 = 8, … 20–24 = 18, 27 = 19, Tue Mar 28 = 20
    (
        "2028-02-29T10:30:00+08:00",
        "2028-02-29",
        "2028-03-03",
        "2028-03-28",
        "2028-03-06T09:00:00+08:00",
        "2028-03-04",
    ),
]


@pytest.mark.parametrize(("moment", "today", "step_due", "chain_due", "sweep_at", "since"), WALKS)
async def test_an_approval_and_a_problem_walk_across_the_date(
    platform, hall, uniq, clock_at, moment, today, step_due, chain_due, sweep_at, since
):
    # policy R15/R16/R17 (approval) and R24 (problem) on the set clock, nothing else
    clock_at(datetime.fromisoformat(moment))
    clear_calendar_cache()  # count with the calendar approvals holds now
    assert clock.today() == date.fromisoformat(today)

    case = await hall.open_case()
    hour = clock.now().astimezone(clock.business_tz()).hour  # the hall's events: this hour
    await hall.event(case["id"], "submitted", today, hour=hour)
    r = await hall.event(case["id"], "accepted", today, hour=hour)
    assert r["case"]["accepted_on"] == today
    assert r["case"]["step_due_date"] == step_due
    assert r["case"]["due_date"] == chain_due and r["case"]["due_provisional"] is True

    project = await make_project(platform, uuid.uuid4().hex[:8])
    async with await platform.as_user("zdb") as c:
        issue = await report(c, project["id"])
        assigned = await walk_to_assigned(c, issue["id"], time_limit_days=3)
    assert assigned["assigned_on"] == today
    assert assigned["deadline"] == step_due and assigned["deadline_provisional"] is True

    # the clock moves past both deadlines; the jobs run "as of" it
    clock_at(datetime.fromisoformat(sweep_at))
    assert (await clock_due({}, case["id"]))["moved"] == 1
    overdue = await outbox_events(case["id"], "approval.overdue")
    assert [(o["step_code"], o["due_date"], o["overdue_since"]) for o in overdue] == [
        ("project_filing", step_due, since)
    ]
    await sweep_supervision({})
    async with await platform.as_user("zdb") as c:
        got = (await c.get(f"/api/v1/issues/{issue['id']}")).json()
    assert got["overdue"] is True and got["overdue_since"] == since
    assert date.fromisoformat(since) == date.fromisoformat(step_due) + timedelta(days=1)
