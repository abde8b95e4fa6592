"""Service-hall events sent several at a time (R16–R19; issue 15): each recorded exactly as
the one-event endpoint records it, answered one by one, a refusal stopping nothing else.

Dates are the 2026 official calendar worked by hand in ``test_walk_low_risk_chain.py``:
劳动节 Fri 5/1–Tue 5/5 off, Sat 5/9 working; low_risk_small = 3 + 7 + 6 + 4 working days.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

from services.approvals.schemas import MAX_EVENT_BATCH
from shared import clock
from tests.approvals.conftest import at, audit_actions, outbox_events

BATCH = "/api/v1/approval-cases/events"


def ev(case_id: str, event_id: str, type_: str, day: str, hour: int = 10, **extra) -> dict:
    return {"case_id": case_id, "event_id": event_id, "type": type_, "occurred_at": at(day, hour), **extra}


def evening(day: str):
    return clock.frozen(clock.at_business_time(date.fromisoformat(day), 18))


def comparable(view: dict) -> dict:
    """A case view without what differs between two cases of the same events (ids, times
    of receipt, the audit's request ids)."""
    drop = {"id", "project_id", "project_code", "project_name", "created_at", "updated_at", "history"}
    return {k: v for k, v in view.items() if k not in drop}


async def test_a_batch_records_each_event_as_one_by_one(hall, platform, uniq):
    # policy R16: step 1 (赋码备案, 3 days) applied Wed 4/29, accepted Thu 4/30, decided
    # Thu 5/7: counted (4/29, 5/7] = 4/30, 5/6, 5/7 → 3 of 3, over the 劳动节 holiday
    one, two, alone = [(await hall.open_case())["id"] for _ in range(3)]
    script = [
        ("submitted", "2026-04-29", {}),
        ("accepted", "2026-04-30", {}),
        ("step_completed", "2026-05-07", {"step_code": "project_filing"}),
    ]
    events = []
    for n, (type_, day, extra) in enumerate(script):  # the two cases' events interleaved
        events.append(ev(one, f"b1-{uniq}-{n}", type_, day, **extra))
        events.append(ev(two, f"b2-{uniq}-{n}", type_, day, **extra))
    with evening("2026-05-07"):
        async with await platform.as_user("xzsp") as c:
            r = await c.post(BATCH, json={"events": events})
        for n, (type_, day, extra) in enumerate(script):
            await hall.event(alone, type_, day, event_id=f"b3-{uniq}-{n}", **extra)
        views = {cid: await hall.get(cid) for cid in (one, two, alone)}
    assert r.status_code == 200, r.text
    reply = r.json()
    assert (reply["accepted"], reply["replayed"], reply["refused"]) == (6, 0, 0)
    assert [(i["index"], i["case_id"], i["status"]) for i in reply["results"]] == [
        (n, e["case_id"], 201) for n, e in enumerate(events)
    ]
    last = reply["results"][-1]["result"]
    assert last["event"]["event_id"] == f"b2-{uniq}-2" and last["case"]["id"] == two
    step = views[one]["steps"][0]
    assert (step["started_on"], step["completed_on"], step["used_days"], step["on_time"]) == (
        "2026-04-29",
        "2026-05-07",
        3,
        True,
    )
    assert comparable(views[one]) == comparable(views[two]) == comparable(views[alone])
    for cid in (one, two, alone):
        actions = await audit_actions(cid)
        assert [a for a in actions if a.startswith("event.")] == [
            "event.submitted",
            "event.accepted",
            "event.step_completed",
        ]
        assert [e["type"] for e in await outbox_events(cid, "approval.step_completed")] == [
            "approval.step_completed"
        ]


async def test_refusals_are_answered_one_by_one_and_leave_nothing(hall, platform, uniq):
    # policy R17: an impossible event is refused naming state and allowed events, an unknown
    # case is 404, a reused event id 409, a pause without its statutory reason 422 (R18) —
    # each leaves its case untouched while the rest of the batch is recorded
    good, untouched = (await hall.open_case())["id"], (await hall.open_case())["id"]
    await hall.event(good, "submitted", "2026-11-02", event_id=f"first-{uniq}", hour=9)
    events = [
        ev(good, f"first-{uniq}", "submitted", "2026-11-02", hour=9),  # replay
        ev(untouched, f"x1-{uniq}", "step_completed", "2026-11-02", step_code="project_filing"),
        ev(str(uuid.uuid4()), f"x2-{uniq}", "accepted", "2026-11-02"),
        ev(untouched, f"first-{uniq}", "accepted", "2026-11-02"),
        ev(untouched, f"x3-{uniq}", "paused", "2026-11-02"),
        ev(good, f"ok-{uniq}", "accepted", "2026-11-02"),
    ]
    with evening("2026-11-02"):
        async with await platform.as_user("xzsp") as c:
            first = (await c.get(f"/api/v1/approval-cases/{good}")).json()
            r = await c.post(BATCH, json={"events": events})
    assert r.status_code == 200, r.text
    reply = r.json()
    assert (reply["accepted"], reply["replayed"], reply["refused"]) == (1, 1, 4)
    results = reply["results"]
    assert [i["status"] for i in results] == [200, 409, 404, 409, 422, 201]
    assert results[0]["result"]["event"]["event_id"] == f"first-{uniq}"
    assert results[0]["result"]["case"]["received_on"] == first["received_on"] == "2026-11-02"
    codes = [i["problem"]["code"] for i in results if "problem" in i and i["problem"]]
    assert codes == [
        "approval.event_not_allowed",
        "approval_case.not_found",
        "approval_event.id_reused",
        "approval_event.pause_reason_required",
    ]
    assert results[1]["problem"]["state"] == "new"
    assert results[1]["problem"]["instance"] == f"/api/v1/approval-cases/{untouched}/events"
    assert all("result" not in i or i["result"] is None for i in results[1:5])
    view = await hall.get(untouched)
    assert (view["phase"], view["version"]) == ("new", 1)
    assert not [a for a in await audit_actions(untouched) if a.startswith("event.")]
    assert (await hall.get(good))["accepted_on"] == "2026-11-02"


async def test_a_bad_batch_is_refused_whole(hall, platform, uniq):
    # policy R16: a malformed event or an oversized batch refuses the whole request
    # (nothing recorded); whoever may record events on no case is refused up front
    cid = (await hall.open_case())["id"]
    good = ev(cid, f"g-{uniq}", "accepted", "2026-11-02")
    with evening("2026-11-02"):
        async with await platform.as_user("xzsp") as c:
            r = await c.post(BATCH, json={"events": [good, good | {"type": "teleported"}]})
            assert (r.status_code, r.json()["code"]) == (422, "request.invalid")
            r = await c.post(BATCH, json={"events": [good] * (MAX_EVENT_BATCH + 1)})
            assert (r.status_code, r.json()["code"]) == (422, "request.invalid")
            r = await c.post(BATCH, json={"events": []})
            assert r.status_code == 422
        async with await platform.as_user("chengguan") as c:  # a township
            r = await c.post(BATCH, json={"events": [good]})
            assert (r.status_code, r.json()["code"]) == (403, "approval_event.forbidden")
    assert (await hall.get(cid))["version"] == 1


async def test_crossing_batches_all_land(hall, platform, uniq):
    # policy R16: batches naming the same cases in opposite orders wait for each other (the
    # cases are locked in id order) instead of deadlocking — every event recorded once
    pairs = [((await hall.open_case())["id"], (await hall.open_case())["id"]) for _ in range(3)]
    batches = []
    for n, (a, b) in enumerate(pairs):
        batches.append(
            [
                ev(a, f"fa{n}-{uniq}", "accepted", "2026-11-02"),
                ev(b, f"fb{n}-{uniq}", "accepted", "2026-11-02"),
            ]
        )
        batches.append(
            [
                ev(b, f"bb{n}-{uniq}", "submitted", "2026-11-02", hour=8),
                ev(a, f"ba{n}-{uniq}", "submitted", "2026-11-02", hour=8),
            ]
        )
    with evening("2026-11-02"):
        async with await platform.as_user("xzsp") as c:
            replies = await asyncio.gather(*(c.post(BATCH, json={"events": e}) for e in batches))
    for r in replies:
        assert r.status_code == 200, r.text
        assert [i["status"] for i in r.json()["results"]] == [201, 201]
    for cid in (cid for pair in pairs for cid in pair):
        view = await hall.get(cid)
        assert (view["received_on"], view["accepted_on"]) == ("2026-11-02", "2026-11-02")
        events = [x for x in await audit_actions(cid) if x.startswith("event.")]
        assert sorted(events) == ["event.accepted", "event.submitted"]
