"""Clock pauses (policy R18): statutory exclusions with evidence, and the 5-working-day
补正 rule (a later request is refused and the application counts as accepted)."""

from __future__ import annotations


async def test_statutory_pause_is_not_counted(hall):
    # policy R18: expert review with its evidence reference; paused time is not counted
    cid = (await hall.open_case())["id"]
    await hall.event(cid, "accepted", "2026-11-02")
    r = await hall.event(cid, "paused", "2026-11-03", reason="expert_review", expect=422)
    assert r["code"] == "approval_event.pause_reason_required"
    await hall.event(
        cid, "paused", "2026-11-03", reason="expert_review", evidence_ref="专家评审通知〔2026〕12号"
    )
    r = await hall.event(cid, "resumed", "2026-11-03", event_id=f"x-{cid}", expect=201)
    # resumed again while running is impossible: 409 naming the state and allowed events
    r = await hall.event(cid, "resumed", "2026-11-04", expect=409)
    assert r["code"] == "approval.event_not_allowed"
    assert r["state"] == "running:project_filing" and "paused" in r["allowed_events"]
    await hall.event(cid, "paused", "2026-11-04", reason="testing", evidence_ref="检测委托 JC-118")
    await hall.event(cid, "resumed", "2026-11-10")
    view = await hall.get(cid)
    # step 1 (3) from Mon 11/2: 11/3=1, 11/4=2; paused (11/4, 11/10] (11/5, 6, 9, 10);
    # 11/11=3 → due Wed 11/11.  Chain (20): 2 used, 18 after 11/10: 11/11..13=1..3,
    # 11/16..20=4..8, 11/23..27=9..13, 11/30..12/4=14..18 → due Fri 12/4
    assert view["steps"][0]["due_date"] == "2026-11-11"
    assert view["chain"]["due_date"] == "2026-12-04"
    assert [(p["reason"], p["reason_name"], p["from"], p["until"]) for p in view["pauses"]] == [
        ("expert_review", "专家评审", "2026-11-03", "2026-11-03"),
        ("testing", "检测", "2026-11-04", "2026-11-10"),
    ]


async def test_supplement_later_than_five_working_days_is_refused(hall):
    # policy R18: 补正 later than 5 working days after receipt → refused; counts as accepted
    cid = (await hall.open_case())["id"]
    await hall.event(cid, "submitted", "2026-11-02")
    # Tue 11/10 is the 6th working day after Mon 11/2
    r = await hall.event(cid, "supplement_requested", "2026-11-10", evidence_ref="补正-1", expect=409)
    assert r["code"] == "approval.supplement_too_late"
    view = await hall.get(cid)
    assert view["deemed_accepted"] is True and view["accepted_on"] == "2026-11-02"
    # accepted as of receipt: 20 days from 11/2 → 11/3..6=1..4, …, 11/23..27=15..19, 11/30=20
    assert view["chain"]["due_date"] == "2026-11-30"


async def test_supplement_within_window_restarts_receipt(hall):
    # policy R18: a timely 补正 request (5th working day) holds acceptance until received
    cid = (await hall.open_case())["id"]
    await hall.event(cid, "submitted", "2026-11-02")
    await hall.event(cid, "supplement_requested", "2026-11-09", evidence_ref="补正-2")
    await hall.event(cid, "supplement_received", "2026-11-16")
    await hall.event(cid, "accepted", "2026-11-17")
    view = await hall.get(cid)
    assert view["deemed_accepted"] is False and view["accepted_on"] == "2026-11-17"
    # policy R16: the step's clock starts at the complete application (Mon 11/16), not at
    # acceptance — the window's own day to accept counts: 11/17=1, 11/18=2, 11/19=3 → Thu 11/19
    assert view["steps"][0]["started_on"] == "2026-11-16"
    assert view["steps"][0]["due_date"] == "2026-11-19"
