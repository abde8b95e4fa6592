"""A low-risk small project walked through its four steps across the 2026 National Day
holiday with a 补正 pause (policy R15–R18), through the gateway, due dates worked out by
hand.

2026 official calendar: 中秋 Fri 9/25–Sun 9/27 off, 国庆 Thu 10/1–Wed 10/7 off; 调休
working days Sun 9/20 and Sat 10/10. Kind low_risk_small: 项目赋码备案 3 + 施工许可 7 +
竣工验收 6 + 不动产权证 4 = 20 working days; the start day is not counted.
"""

from __future__ import annotations

from tests.approvals.conftest import audit_actions, outbox_events


async def test_low_risk_small_chain_across_national_day_with_supplement(hall):
    # policy R16: 4 steps, 20 working days for the chain; R15: the official 2026 calendar
    case = await hall.open_case()
    cid = case["id"]
    assert case["state"] == "new" and case["total_limit_days"] == 20

    # Fri 9/18 submitted and accepted (受理): chain and step 1 start (9/18 not counted).
    await hall.event(cid, "submitted", "2026-09-18")
    await hall.event(cid, "accepted", "2026-09-18")
    view = await hall.get(cid)
    # step 1 (3 days): 9/20 (Sun 调休)=1, 9/21=2, 9/22=3 → due 9/22
    assert view["steps"][0]["due_date"] == "2026-09-22"
    # chain (20): 9/20=1, 9/21..9/24=2..5, [9/25–27 中秋], 9/28..9/30=6..8, [10/1–7 国庆],
    # 10/8=9, 10/9=10, 10/10 (Sat 调休)=11, 10/12..16=12..16, 10/19..22=17..20 → 10/22
    assert view["chain"]["due_date"] == "2026-10-22"
    assert view["chain"]["due_provisional"] is False

    # Mon 9/21 step 1 done: used 9/20, 9/21 = 2 of 3. Step 2 (7 days) starts 9/21:
    # 9/22=1, 9/23=2, 9/24=3, 9/28=4, 9/29=5, 9/30=6, 10/8=7 → due 10/8
    await hall.event(cid, "step_completed", "2026-09-21", step_code="project_filing")
    view = await hall.get(cid)
    assert view["current_step"] == "construction_permit"
    assert view["steps"][0]["used_days"] == 2 and view["steps"][0]["on_time"] is True
    assert view["steps"][1]["due_date"] == "2026-10-08"

    # policy R18: Wed 9/23 补正 requested (2 working days after the step's receipt 9/21,
    # inside the 5-day window): the clock stops.
    await hall.event(cid, "supplement_requested", "2026-09-23",
                     evidence_ref="补正告知书〔2026〕第031号")
    view = await hall.get(cid)
    assert view["state"] == "paused" and view["steps"][1]["due_date"] is None
    # Fri 10/9 materials received: (9/23, 10/9] not counted (9/24, 9/28–30, 10/8, 10/9).
    await hall.event(cid, "supplement_received", "2026-10-09")
    view = await hall.get(cid)
    # step 2: used (9/21, 9/23] = 9/22, 9/23 = 2; 5 left after 10/9: 10/10 (Sat 调休)=1,
    # 10/12=2, 10/13=3, 10/14=4, 10/15=5 → due Thu 10/15
    assert view["steps"][1]["due_date"] == "2026-10-15"
    # chain: used 9/20–9/23 = 4; 16 left after 10/9: 10/10=1, 10/12..16=2..6,
    # 10/19..23=7..11, 10/26..30=12..16 → due Fri 10/30
    assert view["chain"]["due_date"] == "2026-10-30"
    assert view["pauses"] == [{
        "reason": "supplement", "reason_name": "补正材料", "step_code": "construction_permit",
        "from": "2026-09-23", "until": "2026-10-09", "evidence_ref": "补正告知书〔2026〕第031号"}]

    # Wed 10/14 permit issued: used 2 + (10/10, 10/12, 10/13, 10/14) = 6 of 7.
    await hall.event(cid, "step_completed", "2026-10-14", step_code="construction_permit")
    view = await hall.get(cid)
    assert view["steps"][1]["used_days"] == 6 and view["steps"][1]["on_time"] is True
    # step 3 (6 days) from 10/14: 10/15=1, 10/16=2, 10/19=3, 10/20=4, 10/21=5, 10/22=6
    assert view["steps"][2]["due_date"] == "2026-10-22"

    # Wed 10/21 completion acceptance: used 10/15, 10/16, 10/19, 10/20, 10/21 = 5 of 6.
    await hall.event(cid, "step_completed", "2026-10-21", step_code="completion_acceptance")
    view = await hall.get(cid)
    # step 4 (4 days) from 10/21: 10/22=1, 10/23=2, 10/26=3, 10/27=4 → due Tue 10/27
    assert view["steps"][3]["due_date"] == "2026-10-27"

    # Mon 10/26 certificate issued: the chain is done.
    result = await hall.event(cid, "completed", "2026-10-26")
    assert result["case"]["state"] == "done" and result["case"]["completed_on"] == "2026-10-26"
    view = await hall.get(cid)
    assert [s["used_days"] for s in view["steps"]] == [2, 6, 5, 3]
    # chain used: 4 before the pause + 12 after (10/10 .. 10/26) = 16 of 20, on time
    assert view["chain"]["used_days"] == 16 and view["chain"]["on_time"] is True
    budget = view["budget"]
    assert budget["chain_used_days"] == 16
    assert [b["share_of_chain_pct"] for b in budget["by_step"]] == ["10.0", "30.0", "25.0", "15.0"]
    zjj = next(a for a in budget["by_agency"] if a["agency_unit_id"] == "dept-zjj")
    assert zjj["used_days"] == 11 and zjj["steps"] == ["construction_permit", "completion_acceptance"]

    completed = await outbox_events(cid, "approval.completed")
    assert len(completed) == 1
    assert completed[0] | {"agency_unit_ids": None} == completed[0] | {
        "completed_on": "2026-10-26", "working_days_used": 16, "limit_days": 20, "on_time": True,
        "agency_unit_ids": None}
    assert sorted(completed[0]["agency_unit_ids"]) == ["dept-fgj", "dept-zjj", "dept-zrzy"]
    assert len(await outbox_events(cid, "approval.step_completed")) == 4
    actions = await audit_actions(cid)
    assert actions[0] == "create" and "event.supplement_requested" in actions
