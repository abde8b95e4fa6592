"""Deadlines in working days, reminders before, close supervision past the limit (R24)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from services.issues import supervision
from services.issues.jobs import sweep_supervision
from shared import clock
from shared.calendar import default_calendar
from shared.db import job_session
from tests.issues.conftest import outbox_events, report, walk_to_assigned


def _working_after(d: date, n: int) -> date:
    return default_calendar().add_working_days(d, n)


async def test_deadline_counts_working_days_from_the_calendar(platform, project):
    # policy R24 (and R15): the limit is in working days of the shared calendar
    async with await platform.as_user("zdb") as c:
        issue = await report(c, project["id"])
        out = await walk_to_assigned(c, issue["id"], time_limit_days=10)
    assert out["deadline"] == _working_after(date.fromisoformat(out["assigned_on"]), 10).isoformat()
    assert out["working_days_left"] == 10


async def test_reminders_before_then_overdue_under_close_supervision_once(platform, project):
    # policy R24: reminded before the deadline; past it 紧盯督办 and one issue.overdue event
    async with await platform.as_user("zdb") as c:
        issue = await report(c, project["id"])
        out = await walk_to_assigned(c, issue["id"], time_limit_days=3)
    deadline = date.fromisoformat(out["deadline"])
    cal = default_calendar()
    near = cal.add_working_days(deadline, -1)
    async with job_session() as s:
        await supervision.sweep(s, on=near)
    past = cal.add_working_days(deadline, 2)
    await sweep_supervision({}, on=past.isoformat())  # the arq job itself
    await sweep_supervision({}, on=past.isoformat())  # idempotent
    events = await outbox_events(issue["id"], "issue.overdue")
    assert len(events) == 1
    assert events[0]["overdue"] is True and events[0]["close_supervision"] is True
    assert events[0]["unit_id"] == "dept-fgj" and events[0]["deadline"] == out["deadline"]
    async with await platform.as_user("fgj") as c:
        r = await c.get("/api/v1/issues/reminders", params={"since": near.isoformat()})
        kinds = sorted(x["kind"] for x in r.json()["items"] if x["issue_id"] == issue["id"])
        assert kinds == ["deadline_near", "overdue"]
        r = await c.get(f"/api/v1/issues/{issue['id']}")
        detail = r.json()
    assert detail["close_supervision"] is True
    assert detail["overdue_since"] == (deadline + timedelta(days=1)).isoformat()
    actions = [h["action"] for h in detail["history"]]
    assert actions[-1] == "overdue" and actions.count("overdue") == 1


async def test_long_overdue_escalates(platform, project):
    # policy R24: a matter left overdue escalates
    async with await platform.as_user("zdb") as c:
        issue = await report(c, project["id"])
        out = await walk_to_assigned(c, issue["id"], time_limit_days=1)
    far = default_calendar().add_working_days(date.fromisoformat(out["deadline"]), 11)
    async with job_session() as s:
        await supervision.sweep(s, on=far)
    async with await platform.as_user("zdb") as c:
        detail = (await c.get(f"/api/v1/issues/{issue['id']}")).json()
    assert detail["escalation_level"] == 3
    assert "escalate" in [h["action"] for h in detail["history"]]


async def test_overdue_filter_lists_matters_past_their_deadline(platform, uniq):
    # policy R24: the overdue list — by computed deadline, not by a stale flag
    from services.issues.models import Issue
    from tests.issues.conftest import make_project

    project = await make_project(platform, uniq)
    async with await platform.as_user("zdb") as c:
        late = await report(c, project["id"])
        await walk_to_assigned(c, late["id"])
        fine = await report(c, project["id"])
        await walk_to_assigned(c, fine["id"])
    async with job_session() as s:  # as if assigned long ago
        row = await s.get(Issue, uuid.UUID(late["id"]))
        row.deadline = clock.today() - timedelta(days=3)
    async with await platform.as_user("zdb") as c:
        r = await c.get("/api/v1/issues", params={"overdue": "true", "project_id": project["id"]})
        assert r.status_code == 200
        assert [i["id"] for i in r.json()["items"]] == [late["id"]]
        assert r.json()["items"][0]["working_days_left"] < 0
        r = await c.get("/api/v1/issues", params={"overdue": "false", "project_id": project["id"]})
        assert [i["id"] for i in r.json()["items"]] == [fine["id"]]
