"""A low-risk small project walked through its four steps with a real construction period
between the permit and the completion acceptance (policy R16): only the government's time
counts, each step from the applicant's application to the decision, the chain the sum of
its steps.  The clock is set to each event's day, as the service hall would live it.

2026 official calendar (国办发明电〔2025〕号 as loaded by the platform): 劳动节 Fri 5/1–Tue
5/5 off, Sat 5/9 working; 中秋 Fri 9/25 off (with the weekend 9/26–27); Sun 9/20 working;
国庆 Thu 10/1–Wed 10/7 off; Sat 10/10 working.  Kind low_risk_small: 项目赋码备案 3 +
施工许可 7 + 竣工验收 6 + 不动产权证 4 = 20 working days; the start day is not counted.
"""

from __future__ import annotations

from datetime import date

from shared import clock
from tests.approvals.conftest import audit_actions, outbox_events


def evening(day: str):
    """The clock at 18:00 Asia/Shanghai of ``day`` (after the hall's 10:00 events)."""
    return clock.frozen(clock.at_business_time(date.fromisoformat(day), 18))


async def test_construction_months_are_the_applicants_time(hall):
    # policy R16: 全过程审批不得超过20个工作日 counts the agencies' time only
    case = await hall.open_case()
    cid = case["id"]

    # Step 1 (赋码备案, 3): applied Wed 4/29, accepted Thu 4/30, decided Thu 5/7.
    # counted (4/29, 5/7]: 4/30=1, [5/1–5/5 劳动节 and weekend], 5/6=2, 5/7=3 → 3 of 3.
    with evening("2026-04-29"):
        await hall.event(cid, "submitted", "2026-04-29")
    with evening("2026-04-30"):
        await hall.event(cid, "accepted", "2026-04-30")
    with evening("2026-05-07"):
        await hall.event(cid, "step_completed", "2026-05-07", step_code="project_filing")
        view = await hall.get(cid)
    assert view["steps"][0]["started_on"] == "2026-04-29"
    assert view["steps"][0]["used_days"] == 3 and view["steps"][0]["on_time"] is True
    # the applicant has not applied for the permit yet: its own time, nothing counts
    assert view["state"] == "applicant" and view["chain"]["state"] == "applicant"
    assert view["chain"]["used_days"] == 3 and view["chain"]["due_date"] is None

    # Step 2 (施工许可, 7): the hall sends the application Mon 5/18 (after a completed step,
    # `submitted` is the next step's application), accepted Tue 5/19, permit Wed 5/27.
    # counted (5/18, 5/27]: 5/19..5/22=1..4, 5/25=5, 5/26=6, 5/27=7 → 7 of 7.
    with evening("2026-05-18"):
        await hall.event(cid, "submitted", "2026-05-18", step_code="construction_permit")
        view = await hall.get(cid)
    # the chain's 17 remaining days run from 5/18: 5/19..22=4, 5/25..29=9, 6/1..5=14,
    # 6/8=15, 6/9=16, 6/10=17 → due Wed 6/10
    assert view["chain"]["due_date"] == "2026-06-10"
    assert view["applicant_time"] == [
        {
            "before_step": "construction_permit",
            "from": "2026-05-07",
            "until": "2026-05-18",
            # 5/8, 5/9 (Sat 调休), 5/11..15, 5/18 = 8 working days
            "working_days": 8,
        }
    ]
    with evening("2026-05-19"):
        await hall.event(cid, "accepted", "2026-05-19")
    with evening("2026-05-27"):
        await hall.event(cid, "step_completed", "2026-05-27", step_code="construction_permit")

    # Four months of construction: the case sits in the applicant's time all summer.
    with evening("2026-09-11"):
        view = await hall.get(cid)
    assert view["state"] == "applicant" and view["current_step"] == "completion_acceptance"
    assert view["chain"]["used_days"] == 10 and view["chain"]["left_days"] == 10
    assert await outbox_events(cid, "approval.overdue") == []

    # Step 3 (竣工验收, 6): applied Mon 9/14, accepted Tue 9/15; 检测 pause 9/16 → 9/22
    # (R18: 检测 is an art. 45 exclusion) excludes 9/17, 9/18, 9/20 (Sun 调休), 9/21, 9/22.
    with evening("2026-09-14"):
        await hall.event(cid, "submitted", "2026-09-14")
    with evening("2026-09-15"):
        await hall.event(cid, "accepted", "2026-09-15")
        view = await hall.get(cid)
    # step 3 due: 9/15=1, 9/16=2, 9/17=3, 9/18=4, 9/20=5, 9/21=6 → Mon 9/21; chain: 10 used,
    # 10 more from 9/14: 9/15..18=4, 9/20=5, 9/21..24=9, [9/25–27], 9/28=10 → Mon 9/28
    assert view["steps"][2]["due_date"] == "2026-09-21"
    assert view["chain"]["due_date"] == "2026-09-28"
    with evening("2026-09-16"):
        await hall.event(cid, "paused", "2026-09-16", reason="testing", evidence_ref="检测委托 JC-2026-0916")
    with evening("2026-09-22"):
        await hall.event(cid, "resumed", "2026-09-22")
    with evening("2026-09-24"):
        await hall.event(cid, "step_completed", "2026-09-24", step_code="completion_acceptance")
        view = await hall.get(cid)
    # counted (9/14, 9/24] minus the pause: 9/15, 9/16, 9/23, 9/24 = 4 of 6
    assert view["steps"][2]["used_days"] == 4 and view["steps"][2]["on_time"] is True

    # Step 4 (不动产权证, 4): applied and accepted Fri 10/9 after 国庆, issued Wed 10/14:
    # 10/10 (Sat 调休)=1, 10/12=2, 10/13=3, 10/14=4 → 4 of 4.
    with evening("2026-10-09"):
        await hall.event(cid, "accepted", "2026-10-09")
    with evening("2026-10-14"):
        result = await hall.event(cid, "completed", "2026-10-14")
        view = await hall.get(cid)
    assert result["case"]["state"] == "done" and result["case"]["completed_on"] == "2026-10-14"
    assert [s["used_days"] for s in view["steps"]] == [3, 7, 4, 4]
    # the chain: 3 + 7 + 4 + 4 = 18 of 20, on time (counting from 4/29 to 10/14 without
    # the applicant's time would be well over 100 working days)
    assert view["chain"]["used_days"] == 18 and view["chain"]["on_time"] is True
    assert [(a["before_step"], a["from"], a["until"]) for a in view["applicant_time"]] == [
        ("construction_permit", "2026-05-07", "2026-05-18"),
        ("completion_acceptance", "2026-05-27", "2026-09-14"),
        ("property_certificate", "2026-09-24", "2026-10-09"),
    ]
    zjj = next(a for a in view["budget"]["by_agency"] if a["agency_unit_id"] == "dept-zjj")
    assert zjj["used_days"] == 11  # 施工许可 7 + 竣工验收 4

    completed = await outbox_events(cid, "approval.completed")
    assert [(c["working_days_used"], c["on_time"]) for c in completed] == [(18, True)]
    # every agency was on time: no overdue, so no supervision matter against 住建局
    assert await outbox_events(cid, "approval.overdue") == []
    assert "event.submitted" in await audit_actions(cid)


async def test_a_step_overdue_in_the_agencys_hands_still_counts(hall):
    # policy R16/R17: the agencies' own time still runs out — a slow permit is overdue
    cid = (await hall.open_case())["id"]
    with evening("2026-06-01"):
        await hall.event(cid, "accepted", "2026-06-01")
    with evening("2026-06-02"):
        await hall.event(cid, "step_completed", "2026-06-02", step_code="project_filing")
    with evening("2026-06-08"):
        await hall.event(cid, "submitted", "2026-06-08")
    # permit (7) from Mon 6/8: 6/9..12=1..4, 6/15..17=5..7 → due Wed 6/17; [6/19 端午 off]
    with evening("2026-06-22"):
        view = await hall.get(cid)
    assert view["steps"][1]["due_date"] == "2026-06-17"
    assert view["steps"][1]["state"] == "overdue" and view["state"] == "overdue"
    # counted: step 1 (6/1, 6/2] = 1; step 2 (6/8, 6/22] = 6/9..12, 6/15..18, 6/22 = 9
    assert view["steps"][1]["used_days"] == 9 and view["chain"]["used_days"] == 10
