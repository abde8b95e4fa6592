"""The calendar as data through the gateway (policy R15): years, corrections, 422s, the
internal feed other services count with, and open deadlines recomputed on a change."""

from __future__ import annotations

from datetime import date

from services.approvals.models import pipeline
from shared.calendar import clear_calendar_cache, load_calendar
from shared.db import job_session
from tests.approvals.conftest import audit_actions, outbox_events

OFFICIAL_2027 = {
    # test data standing in for the State Council's 2027 notice
    "off_days": ["2027-01-01", "2027-01-02", "2027-01-03", *[f"2027-02-{d:02d}" for d in range(6, 15)]],
    "working_days": ["2027-02-20"],
    "official": True,
    "source": "国务院办公厅关于2027年部分节假日安排的通知（测试数据）",
    "reason": "国务院公布 2027 年放假安排",
}


async def test_official_2026_and_provisional_2027(platform):
    # policy R15: official years come from chinese-calendar; a year without data is provisional
    async with await platform.as_user("chengguan") as c:
        y = (await c.get("/api/v1/calendar/2026")).json()
        assert y["official"] is True and y["source"].startswith("chinese-calendar")
        assert "2026-10-01" in y["off_days"] and "2026-10-10" in y["working_days"]
        y = (await c.get("/api/v1/calendar/2027")).json()
        assert y["official"] is False and y["working_days"] == []
        assert y["off_days"] == [
            "2027-01-01",
            "2027-05-01",
            "2027-05-02",
            "2027-10-01",
            "2027-10-02",
            "2027-10-03",
        ]
        r = await c.get("/api/v1/calendar/add-working-days", params={"start": "2026-09-18", "days": 20})
        assert r.json()["date"] == "2026-10-22" and r.json()["provisional"] is False
        r = await c.get("/api/v1/calendar/add-working-days", params={"start": "2026-12-24", "days": 6})
        assert r.json() | {"convention": None} == {
            "start": "2026-12-24",
            "days": 6,
            "date": "2027-01-04",
            "provisional": True,
            "convention": None,
        }


async def test_bad_calendar_input_is_refused(platform):
    # policy R15: a day both off and working → 422; only the office loads a year
    async with await platform.as_user("admin") as c:
        r = await c.put(
            "/api/v1/calendar/2031",
            json={"off_days": ["2031-02-08"], "working_days": ["2031-02-08"], "source": "x"},
        )
        assert r.status_code == 422 and r.json()["code"] == "calendar.day_both_off_and_working"
        r = await c.put(
            "/api/v1/calendar/2031", json={"off_days": [], "working_days": ["2031-02-05"], "source": "x"}
        )  # a Wednesday
        assert r.status_code == 422 and r.json()["code"] == "calendar.working_day_not_weekend"
        r = await c.put(
            "/api/v1/calendar/2031", json={"off_days": ["2030-12-31"], "working_days": [], "source": "x"}
        )
        assert r.status_code == 422 and r.json()["code"] == "calendar.date_outside_year"
        assert (await c.get("/api/v1/calendar/2031")).json()["stored"] is False
    async with await platform.as_user("chengguan") as c:
        r = await c.put("/api/v1/calendar/2031", json={"off_days": [], "working_days": [], "source": "x"})
        assert (r.status_code, r.json()["code"]) == (403, "auth.office_only")


async def test_internal_feed_and_load_calendar(platform):
    # policy R15: the issues and scoring services count with the same calendar
    clear_calendar_cache()
    cal = await load_calendar()
    assert not cal.is_provisional(date(2026, 10, 1))
    assert cal.add_working_days(date(2026, 9, 30), 1).isoformat() == "2026-10-08"
    async with platform.client("approvals") as c:
        assert (await c.get("/internal/calendar")).status_code == 401  # identity required
    clear_calendar_cache()


async def test_provisional_2027_deadline_recomputed_when_official_year_loaded(platform, hall, uniq):
    # policy R15: a deadline in a provisional year is marked so, and is recomputed, audited
    # and announced (approval.deadline_changed) when the official year is loaded
    async with await platform.as_user("admin") as c:
        r = await c.post(
            "/api/v1/approval-kinds",
            json={
                "code": f"long_review_{uniq}",
                "name": "长周期审查（测试）",
                "steps": [
                    {"code": "review", "name": "技术审查", "limit_days": 60, "agency_unit_id": "dept-fgj"}
                ],
            },
        )
        assert r.status_code == 201, r.text
    case = await hall.open_case(kind=f"long_review_{uniq}")
    cid = case["id"]
    await hall.event(cid, "accepted", "2026-11-20")
    # Fri 2026-11-20 + 60: Nov 23–27 = 1–5, … Dec 28–31 = 26–29, Fri 2027-01-01 元旦 off,
    # Jan 4–8 = 30–34, … Feb 8–12 = 55–59, Mon Feb 15 = 60 (provisional 2027)
    view = await hall.get(cid)
    assert view["due_date"] == "2027-02-15" and view["due_provisional"] is True
    try:
        async with await platform.as_user("admin") as c:
            r = await c.put("/api/v1/calendar/2027", json=OFFICIAL_2027)
            assert r.status_code == 200, r.text
            assert r.json()["official"] is True and r.json()["recomputed"]["changed_cases"] >= 1
        # official 2027: 春节 Feb 6–14 off, Sat Feb 20 调休 working. Feb 1–5 = 50–54,
        # Feb 15–19 = 55–59, Sat Feb 20 = 60
        view = await hall.get(cid)
        assert view["due_date"] == "2027-02-20" and view["due_provisional"] is False
        changed = await outbox_events(cid, "approval.deadline_changed")
        assert changed[-1]["old_due_date"] == "2027-02-15"
        assert changed[-1]["new_due_date"] == "2027-02-20"
        assert "deadline.recomputed" in await audit_actions(cid)
        async with job_session() as s:
            history = await pipeline.history(s, "calendar_year", 2027)
        assert history[-1]["action"] == "put" and history[-1]["after"]["official"] is True
    finally:
        async with await platform.as_user("admin") as c:  # back to provisional for others
            r = await c.delete("/api/v1/calendar/2027")
            assert r.status_code == 200 and r.json()["official"] is False
    view = await hall.get(cid)
    assert view["due_date"] == "2027-02-15" and view["due_provisional"] is True
