"""容缺/credit commitment (R19), the fast track (R20) and three zeros (R21)."""

from __future__ import annotations

import uuid
from datetime import datetime

from services.approvals.sweeper import sweep
from shared.db import job_session
from tests.approvals.conftest import outbox_events


async def test_tolerance_records_items_and_flags_missed_due_date(hall, clock_at):
    # policy R19: the case proceeds; missing items and due date recorded; a miss is flagged
    clock_at(datetime.fromisoformat("2026-11-25T11:00:00+08:00"))
    case = await hall.open_case(project_type="park_industrial", acceptance_mode="tolerance",
                                missing_items=["环评批复（容缺）"], missing_items_due="2026-12-10")
    cid = case["id"]
    assert case["missing_items"] == ["环评批复（容缺）"] and case["missing_items_overdue"] is False
    await hall.event(cid, "accepted", "2026-11-25")  # it proceeds
    async with job_session() as s:
        await sweep(s, case_id=uuid.UUID(cid), now=datetime.fromisoformat("2026-12-11T00:00:00+08:00"))
    missed = await outbox_events(cid, "approval.missing_items_overdue")
    assert len(missed) == 1 and missed[0]["items"] == ["环评批复（容缺）"]
    assert missed[0]["due_date"] == "2026-12-10"
    assert (await hall.get(cid))["missing_items_overdue"] is True


async def test_credit_commitment_items_supplied_in_time_are_not_flagged(hall, clock_at):
    # policy R19: items supplied before the due date → no flag
    clock_at(datetime.fromisoformat("2026-11-26T11:00:00+08:00"))
    case = await hall.open_case(project_type="transport_infrastructure",
                                acceptance_mode="credit_commitment",
                                missing_items=["水土保持方案"], missing_items_due="2026-12-10")
    cid = case["id"]
    await hall.event(cid, "accepted", "2026-11-25")
    await hall.event(cid, "missing_items_supplied", "2026-11-26")
    async with job_session() as s:
        await sweep(s, case_id=uuid.UUID(cid), now=datetime.fromisoformat("2026-12-11T00:00:00+08:00"))
    assert await outbox_events(cid, "approval.missing_items_overdue") == []
    assert (await hall.get(cid))["missing_items_supplied_on"] == "2026-11-26"


async def test_tolerance_only_for_eligible_projects(hall, platform):
    # policy R19: only park-industrial and transport-infrastructure projects
    project = await hall.project()
    async with await platform.as_user("xzsp") as c:
        r = await c.post("/api/v1/approval-cases", json={
            "project_id": project["id"], "kind": "low_risk_small", "project_type": "other",
            "acceptance_mode": "tolerance", "missing_items": ["x"], "missing_items_due": "2026-12-01"})
        assert r.status_code == 422 and r.json()["code"] == "approval_case.tolerance_not_eligible"
        r = await c.post("/api/v1/approval-cases", json={
            "project_id": project["id"], "kind": "low_risk_small",
            "project_type": "park_industrial", "acceptance_mode": "tolerance"})
        assert r.status_code == 422 and r.json()["code"] == "approval_case.missing_items_required"


async def test_fast_track_with_designated_assistant(hall, platform):
    # policy R20: key projects flagged for the fast track with a designated assistant
    project = await hall.project()
    async with await platform.as_user("xzsp") as c:
        r = await c.post("/api/v1/approval-cases", json={
            "project_id": project["id"], "kind": "low_risk_small", "fast_track": True})
        assert r.status_code == 422 and r.json()["code"] == "approval_case.assistant_required"
    case = await hall.open_case(fast_track=True, assistant={"name": "帮办员 孙悦", "phone": "0350-1234567"})
    assert case["fast_track"] is True and case["assistant"]["name"] == "帮办员 孙悦"
    other = await hall.open_case()
    async with await platform.as_user("chengguan") as c:
        r = await c.post(f"/api/v1/approval-cases/{other['id']}/fast-track",
                         json={"fast_track": True, "assistant": {"name": "x"}})
        assert r.status_code == 403
    async with await platform.as_user("zdb") as c:
        r = await c.post(f"/api/v1/approval-cases/{other['id']}/fast-track",
                         json={"fast_track": True, "assistant": {"name": "帮办员 周强"},
                               "reason": "列入省级重点工程"})
        assert r.status_code == 200 and r.json()["fast_track"] is True
        r = await c.get("/api/v1/approval-cases", params={"fast_track": "true",
                                                          "project_id": other["project_id"]})
        assert [i["id"] for i in r.json()["items"]] == [other["id"]]
    view = await hall.get(other["id"])
    assert view["history"][-1]["action"] == "fast_track.set"
    assert view["history"][-1]["reason"] == "列入省级重点工程"


async def test_three_zeros_connection_has_its_own_limit(hall, platform):
    # policy R21: "three zeros" utility connections tracked as requests with their own limit
    async with await platform.as_user("qiye") as c:
        kinds = {k["code"]: k for k in (await c.get("/api/v1/approval-kinds")).json()["items"]}
    assert kinds["three_zeros_power"]["category"] == "three_zeros"
    assert kinds["three_zeros_power"]["total_limit_days"] == 5
    cid = (await hall.open_case(kind="three_zeros_power"))["id"]
    await hall.event(cid, "accepted", "2026-11-19")
    view = await hall.get(cid)
    # Thu 11/19 + 5: 11/20=1, 11/23=2, 11/24=3, 11/25=4, 11/26=5
    assert view["due_date"] == "2026-11-26"
    r = await hall.event(cid, "completed", "2026-11-24")
    assert r["case"]["state"] == "done"
    done = await outbox_events(cid, "approval.completed")
    assert done[0]["working_days_used"] == 3 and done[0]["on_time"] is True
