"""A calendar change reaches the issues service as an event; an outage changes nothing.

architecture (must, "Time limits"): a service that cannot reach the calendar's owner keeps
its last known data and never recomputes deadlines from a fallback.
"""

from __future__ import annotations

from datetime import datetime

from services.issues.jobs import sweep_supervision
from shared.calendar import clear_calendar_cache, expire_calendar_cache, load_calendar
from tests.approvals.test_calendar_api import OFFICIAL_2027
from tests.issues.conftest import act, report, walk_to_assigned


async def _issue(platform, issue_id: str) -> dict:
    async with await platform.as_user("zdb") as c:
        r = await c.get(f"/api/v1/issues/{issue_id}")
        assert r.status_code == 200, r.text
        return r.json()


async def _recomputed(platform, issue_id: str) -> int:
    history = (await _issue(platform, issue_id))["history"]
    return sum(1 for h in history if h["action"] == "deadline_recomputed")


async def test_calendar_outage_recomputes_nothing_and_the_change_event_does(platform, project, clock_at):
    # policy R15/R24: Mon 2027-01-04, a problem with 30 working days. Provisional 2027
    # (weekends + 1/1 off): Jan 5–8 = 1–4, 11–15 = 9, 18–22 = 14, 25–29 = 19, Feb 1–5 = 24,
    # Feb 8–12 = 29, Mon Feb 15 = 30 → 2027-02-15, provisional.
    clock_at(datetime.fromisoformat("2027-01-04T09:30:00+08:00"))
    clear_calendar_cache()
    async with await platform.as_user("zdb") as c:
        issue = await report(c, project["id"])
        assigned = await walk_to_assigned(c, issue["id"], time_limit_days=30)
    assert assigned["deadline"] == "2027-02-15" and assigned["deadline_provisional"] is True
    try:
        async with await platform.as_user("admin") as c:
            r = await c.put("/api/v1/calendar/2027", json=OFFICIAL_2027)
            assert r.status_code == 200, r.text
        await platform.drain()
        # official 2027 (test data): 春节 Feb 6–14 off, Sat Feb 20 调休 working. Feb 1–5 =
        # 20–24, Feb 15–19 = 25–29, Sat Feb 20 = 30 → 2027-02-20, official
        got = await _issue(platform, issue["id"])
        assert got["deadline"] == "2027-02-20" and got["deadline_provisional"] is False
        assert await _recomputed(platform, issue["id"]) == 1

        # approvals stops answering: the issues service keeps revision it knows, the sweep
        # moves no deadline (the old fallback counted with built-in data: back to Feb 15)
        await platform.stop_service("approvals")
        try:
            expire_calendar_cache()
            cal = await load_calendar()
            assert not cal.is_provisional(datetime(2027, 2, 20).date())
            await sweep_supervision({})
            got = await _issue(platform, issue["id"])
            assert got["deadline"] == "2027-02-20" and got["deadline_provisional"] is False
            assert await _recomputed(platform, issue["id"]) == 1
        finally:
            await platform.start_service("approvals")
    finally:
        async with await platform.as_user("admin") as c:  # back to provisional for others
            r = await c.delete("/api/v1/calendar/2027")
            assert r.status_code == 200, r.text
    # once approvals answers, its reset reaches the issues service as calendar.year_changed
    await platform.drain()
    got = await _issue(platform, issue["id"])
    assert got["deadline"] == "2027-02-15" and got["deadline_provisional"] is True
    assert await _recomputed(platform, issue["id"]) == 2
    async with await platform.as_user("zdb") as c:  # the problem still walks on
        r = await act(c, issue["id"], "request_close", {"summary": "节能审查已办结"})
        assert r.status_code == 200, r.text
