"""Warnings, overdue, the sweeper and the exact job (policy R17): each threshold fires once."""

from __future__ import annotations

import uuid
from datetime import datetime

from services.approvals.jobs import clock_due
from services.approvals.sweeper import due_soon, job_id, sweep
from shared.db import job_session
from tests.approvals.conftest import outbox_events


def shanghai(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T00:00:00+08:00")


async def test_warning_then_overdue_fire_once(hall, clock_at):
    # policy R17: warning at 80 % of the limit and at N (3) days left; overdue after
    clock_at(datetime.fromisoformat("2026-11-26T11:00:00+08:00"))
    case = await hall.open_case()
    cid = case["id"]
    await hall.event(cid, "submitted", "2026-11-25")
    r = await hall.event(cid, "accepted", "2026-11-25")
    # step 1 (3 days) from Wed 11/25: 11/26=1, 11/27=2, 11/30=3 → due Mon 11/30; with 3 days
    # the "3 days left" warning is due on day 1 (11/26, today or earlier): fired at intake
    assert r["case"]["step_due_date"] == "2026-11-30"
    warnings = await outbox_events(cid, "approval.warning")
    assert [(w["step_code"], w["warning_reason"], w["days_left"]) for w in warnings] == [
        ("project_filing", "days_left", 2)
    ]
    assert warnings[0]["agency_unit_id"] == "dept-fgj" and warnings[0]["due_date"] == "2026-11-30"

    # the exact job at 00:00 12/1, run "as of" that moment: overdue (the unfired 80 %
    # warning is superseded)
    async with job_session() as s:
        moved = await sweep(s, case_id=uuid.UUID(cid), now=shanghai("2026-12-01"))
    assert moved == {"moved": 1, "events": 1}
    overdue = await outbox_events(cid, "approval.overdue")
    assert len(overdue) == 1 and overdue[0] | {"case_id": None} == overdue[0] | {
        "case_id": None,
        "step_code": "project_filing",
        "step_name": "项目赋码备案",
        "agency_unit_id": "dept-fgj",
        "due_date": "2026-11-30",
        "overdue_since": "2026-12-01",
        "project_code": case["project_code"],
        "kind": "low_risk_small",
    }
    # idempotent: sweeping again at the same moment moves nothing, emits nothing
    async with job_session() as s:
        assert (await sweep(s, case_id=uuid.UUID(cid), now=shanghai("2026-12-01")))["moved"] == 0
    assert len(await outbox_events(cid, "approval.overdue")) == 1

    # chain (20) from 11/25: 80 % = day 16 = 12/17, 3 left = day 17 = 12/18, due day 20 = 12/23
    async with job_session() as s:
        await sweep(s, case_id=uuid.UUID(cid), now=shanghai("2026-12-17"))
        await sweep(s, case_id=uuid.UUID(cid), now=shanghai("2026-12-18"))
        await sweep(s, case_id=uuid.UUID(cid), now=shanghai("2026-12-24"))
        await sweep(s, case_id=uuid.UUID(cid), now=shanghai("2026-12-25"))
    chain_w = [w for w in await outbox_events(cid, "approval.warning") if w["step_code"] is None]
    assert [(w["warning_reason"], w["days_left"]) for w in chain_w] == [("share", 4), ("days_left", 3)]
    chain_o = [o for o in await outbox_events(cid, "approval.overdue") if o["step_code"] is None]
    assert len(chain_o) == 1 and chain_o[0]["due_date"] == "2026-12-23"
    assert chain_o[0]["agency_unit_id"] == "dept-fgj"  # where the chain is stuck
    async with await hall.platform.as_user("zdb") as c:
        r = await c.get(
            "/api/v1/approval-cases",
            params={"state": "overdue", "kind": "low_risk_small", "project_id": case["project_id"]},
        )
    assert [i["id"] for i in r.json()["items"]] == [cid]


async def test_exact_job_schedule_and_job_are_idempotent(hall, clock_at):
    # policy R17: exact deferred jobs are scheduled by moment, unique by job id
    clock_at(datetime.fromisoformat("2026-11-26T11:00:00+08:00"))
    case = await hall.open_case()
    cid = uuid.UUID(case["id"])
    r = await hall.event(case["id"], "accepted", "2026-11-25")
    # step 1 from 11/25: the 80 % warning (day 3) is at 00:00 Mon 11/30 (+08)
    nxt = datetime.fromisoformat(r["case"]["next_threshold_at"])
    assert nxt == shanghai("2026-11-30")
    async with job_session() as s:
        soon = await due_soon(s, now=shanghai("2026-11-29"), horizon_s=86400)
    assert (cid, nxt) in soon
    assert job_id(cid, nxt) == f"clock:{cid}:{int(nxt.timestamp())}"
    # the job run before its moment moves nothing, however often it runs
    assert (await clock_due({}, str(cid)))["moved"] == 0
    assert (await clock_due({}, str(cid)))["moved"] == 0
