"""Service-hall intake (R16–R18): idempotent by event_id, ordered by occurred_at, bad
input refused with problem+json; approval kinds and their limits."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

from shared import clock
from tests.approvals.conftest import audit_actions, outbox_events


async def test_replay_returns_first_result_and_other_payload_conflicts(hall, platform, uniq):
    # policy R16: a service-hall event is recorded once, however often it is sent
    cid = (await hall.open_case())["id"]
    body = {"event_id": f"sw-{uniq}", "type": "accepted", "occurred_at": "2026-11-02T09:30:00+08:00"}
    async with await platform.as_user("xzsp") as c:
        first = await c.post(f"/api/v1/approval-cases/{cid}/events", json=body)
        again = await c.post(f"/api/v1/approval-cases/{cid}/events", json=body)
        assert first.status_code == 201 and again.status_code == 200
        assert again.json() == first.json()  # replayed
        other = await c.post(
            f"/api/v1/approval-cases/{cid}/events", json=body | {"occurred_at": "2026-11-03T09:30:00+08:00"}
        )
        assert other.status_code == 409 and other.json()["code"] == "approval_event.id_reused"
    view = await hall.get(cid)
    assert view["accepted_on"] == "2026-11-02"
    assert sum(1 for h in view["history"] if h["action"] == "event.accepted") == 1


async def test_events_are_ordered_by_occurred_at(hall):
    # policy R16: a late-arriving earlier event takes its place in time
    cid = (await hall.open_case())["id"]
    await hall.event(cid, "accepted", "2026-11-02")
    await hall.event(cid, "step_completed", "2026-11-04", step_code="project_filing")
    # the receipt (08:00), sent after acceptance (10:00), is accepted in its place in time
    r = await hall.event(cid, "submitted", "2026-11-02", hour=8)
    assert r["case"]["received_on"] == "2026-11-02"
    # a pause that would fall before acceptance is impossible in its place
    r = await hall.event(cid, "resumed", "2026-11-01", expect=409)
    assert r["state"] == "new" and r["allowed_events"] == ["submitted", "accepted", "rejected"]
    view = await hall.get(cid)
    assert view["steps"][0]["completed_on"] == "2026-11-04"


async def test_impossible_unknown_and_future_events(hall, platform):
    # policy R17: impossible → 409 naming state and allowed events; unknown case → 404;
    # occurred_at beyond the clock skew → 422
    cid = (await hall.open_case())["id"]
    r = await hall.event(cid, "step_completed", "2026-11-02", expect=409)
    assert r["state"] == "new" and r["allowed_events"] == ["submitted", "accepted", "rejected"]
    future = (clock.now() + timedelta(hours=2)).isoformat()
    async with await platform.as_user("xzsp") as c:
        r = await c.post(
            f"/api/v1/approval-cases/{cid}/events",
            json={"event_id": str(uuid.uuid4()), "type": "accepted", "occurred_at": future},
        )
        assert r.status_code == 422 and r.json()["code"] == "approval_event.in_future"
        r = await c.post(
            f"/api/v1/approval-cases/{uuid.uuid4()}/events",
            json={
                "event_id": str(uuid.uuid4()),
                "type": "accepted",
                "occurred_at": "2026-11-02T09:00:00+08:00",
            },
        )
        assert r.status_code == 404 and r.json()["code"] == "approval_case.not_found"
        r = await c.post(
            f"/api/v1/approval-cases/{cid}/events",
            json={"event_id": "e", "type": "teleported", "occurred_at": "2026-11-02T09:00:00+08:00"},
        )
        assert r.status_code == 422
    await hall.event(cid, "accepted", "2026-11-02")
    r = await hall.event(cid, "completed", "2026-11-03", expect=409)  # not at the last step
    assert "step_completed" in r["allowed_events"] and "completed" not in r["allowed_events"]
    r = await hall.event(cid, "step_completed", "2026-11-03", step_code="construction_permit", expect=409)
    assert r["code"] == "approval.wrong_step"
    await hall.event(cid, "rejected", "2026-11-05", note="不符合法定条件")
    r = await hall.event(cid, "accepted", "2026-11-06", expect=409)
    assert r["state"] == "rejected" and r["allowed_events"] == []


async def test_who_may_post_and_read(hall, platform):
    # policy R17: the window, the office, platforms and the step agencies post; others not
    case = await hall.open_case()
    cid = case["id"]
    await hall.event(cid, "accepted", "2026-11-02", user="fgj")  # agency of step 1
    r = await hall.event(
        cid, "paused", "2026-11-03", user="donghe", expect=403, reason="hearing", evidence_ref="x"
    )
    assert r["code"] == "approval_event.forbidden"
    async with await platform.as_user("chengguan") as c:  # the project's township reads
        assert (await c.get(f"/api/v1/approval-cases/{cid}")).status_code == 200
    async with await platform.as_user("donghe") as c:
        r = await c.get(f"/api/v1/approval-cases/{cid}")
        assert (r.status_code, r.json()["code"]) == (403, "approval_case.forbidden")
        r = await c.get("/api/v1/approval-cases", params={"project_id": case["project_id"]})
        assert r.json()["total"] == 0
    async with await platform.as_user("chengguan") as c:
        r = await c.post(
            "/api/v1/approval-cases", json={"project_id": case["project_id"], "kind": "low_risk_small"}
        )
        assert (r.status_code, r.json()["code"]) == (403, "approval_case.intake_only")


async def test_case_bad_input(hall, platform):
    # policy R16: unknown kind → 422; a step split breaking the 20-day total → 422
    project = await hall.project()
    async with await platform.as_user("xzsp") as c:
        r = await c.post("/api/v1/approval-cases", json={"project_id": project["id"], "kind": "nope"})
        assert r.status_code == 422 and r.json()["code"] == "approval_kind.unknown"
        r = await c.post(
            "/api/v1/approval-cases",
            json={
                "project_id": project["id"],
                "kind": "low_risk_small",
                "step_limits": {"construction_permit": 9},
            },
        )
        assert r.status_code == 422 and r.json()["code"] == "approval_kind.step_sum_exceeds_total"
        r = await c.post(
            "/api/v1/approval-cases", json={"project_id": str(uuid.uuid4()), "kind": "low_risk_small"}
        )
        assert r.status_code == 422 and r.json()["code"] == "project.not_found"
        r = await c.post(
            "/api/v1/approval-cases",
            json={
                "project_id": project["id"],
                "kind": "low_risk_small",
                "step_limits": {"construction_permit": 6, "property_certificate": 5},
            },
        )
        assert r.status_code == 201
        assert [
            s["limit_days"] for s in (await c.get(f"/api/v1/approval-cases/{r.json()['id']}")).json()["steps"]
        ] == [3, 6, 6, 5]


async def test_kinds_are_admin_data_with_enforced_totals(platform, uniq):
    # policy R16: the split is configurable, the 20-day total enforced; R17 admin kinds
    async with await platform.as_user("admin") as c:
        r = await c.put("/api/v1/approval-kinds/low_risk_small", json={"total_limit_days": 25})
        assert r.status_code == 422 and r.json()["code"] == "approval_kind.total_exceeds_policy"
        steps = (await c.get("/api/v1/approval-kinds/low_risk_small")).json()["steps"]
        steps[0]["limit_days"] = 4
        r = await c.put("/api/v1/approval-kinds/low_risk_small", json={"steps": steps})
        assert r.status_code == 422 and r.json()["code"] == "approval_kind.step_sum_exceeds_total"
        kind = {
            "code": f"land_{uniq}",
            "name": "用地审批（测试）",
            "total_limit_days": 10,
            "steps": [
                {"code": "pre_review", "name": "用地预审", "limit_days": 6, "agency_unit_id": "dept-zrzy"},
                {"code": "planning", "name": "规划许可", "limit_days": 5, "agency_unit_id": "dept-zrzy"},
            ],
        }
        r = await c.post("/api/v1/approval-kinds", json=kind)
        assert r.status_code == 422 and r.json()["code"] == "approval_kind.step_sum_exceeds_total"
        kind["steps"][1]["limit_days"] = 4
        r = await c.post(
            "/api/v1/approval-kinds",
            json=kind | {"steps": [kind["steps"][0] | {"agency_unit_id": "dept-nowhere"}]},
        )
        assert r.status_code == 422 and r.json()["code"] == "unit.unknown"
        assert (await c.post("/api/v1/approval-kinds", json=kind)).status_code == 201
        assert (await c.post("/api/v1/approval-kinds", json=kind)).status_code == 409
        r = await c.put(
            f"/api/v1/approval-kinds/land_{uniq}",
            json={"total_limit_days": 12, "reason": "县政府常务会议调整"},
        )
        assert r.status_code == 200 and r.json()["version"] == 2
    async with await platform.as_user("fgj") as c:
        r = await c.post("/api/v1/approval-kinds", json=kind | {"code": f"x_{uniq}"})
        assert (r.status_code, r.json()["code"]) == (403, "auth.office_only")


async def test_event_id_of_another_case_writes_nothing(hall, uniq):
    # policy R16: the event, the clock, its outbox events and its audit row are one write:
    # an id already used by another case's event is refused and leaves the case untouched
    first = (await hall.open_case())["id"]
    second = (await hall.open_case())["id"]
    await hall.event(first, "accepted", "2026-11-02", event_id=f"shared-{uniq}")
    before = await hall.get(second)
    r = await hall.event(second, "accepted", "2026-11-02", event_id=f"shared-{uniq}", expect=409)
    assert r["code"] == "approval_event.id_reused"
    after = await hall.get(second)
    assert (after["phase"], after["version"]) == (before["phase"], before["version"]) == ("new", 1)
    assert "event.accepted" not in await audit_actions(second)
    assert [e["type"] for e in await outbox_events(second)] == ["approval.case_opened"]


async def test_concurrent_events_on_one_case_all_count(hall, platform, uniq):
    # policy R16: two events of one case arriving at once (the receipt at 08:00 and the
    # acceptance at 10:00 of Mon 11/2) both count, whichever waits for the case's lock: the
    # one that waited reads the log with the other's event in it
    cases = [(await hall.open_case())["id"] for _ in range(4)]
    async with await platform.as_user("xzsp") as c:

        async def send(cid: str, type_: str, hour: int):
            body = {
                "event_id": f"{type_}-{cid}",
                "type": type_,
                "occurred_at": f"2026-11-02T{hour:02d}:00:00+08:00",
            }
            return await c.post(f"/api/v1/approval-cases/{cid}/events", json=body)

        with clock.frozen(clock.at_business_time(date(2026, 11, 2), 18)):
            replies = await asyncio.gather(
                *(send(cid, t, h) for cid in cases for t, h in (("accepted", 10), ("submitted", 8)))
            )
            views = [await hall.get(cid) for cid in cases]
    assert [r.status_code for r in replies] == [201] * 8
    for view in views:
        assert (view["received_on"], view["accepted_on"], view["version"]) == ("2026-11-02", "2026-11-02", 3)
