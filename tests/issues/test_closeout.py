"""Close-out only on the enterprise's satisfaction; dissatisfaction reopens as a redo (R25)."""

from __future__ import annotations

from datetime import timedelta

from services.issues import supervision
from shared import clock
from shared.db import job_session
from tests.issues.conftest import act, outbox_events, report, walk_to_assigned

VISIT = {"visitor": "张明", "channel": "phone", "satisfied": True, "words": "问题已解决，很满意"}


async def _awaiting_visit(c, project_id) -> str:
    issue = await report(c, project_id)
    await walk_to_assigned(c, issue["id"])
    r = await act(c, issue["id"], "request_close", {"summary": "节能审查意见已出具"})
    assert r.status_code == 200, r.text
    assert r.json()["step"] == "closure_requested"
    return issue["id"]


async def test_visit_on_problem_not_awaiting_one_is_409(platform, project):
    # policy R25: a verdict only for a problem whose closure was requested
    async with await platform.as_user("zdb") as c:
        issue = await report(c, project["id"])
        await walk_to_assigned(c, issue["id"])
        r = await act(c, issue["id"], "record_visit", VISIT | {"visited_on": str(clock.today())})
        assert r.status_code == 409
        assert r.json()["code"] == "issue.action_not_allowed"
        assert "record_visit" not in r.json()["allowed_actions"]


async def test_dissatisfied_reopens_and_counts_a_redo_satisfied_closes(platform, project):
    # policy R25: dissatisfied → reopened, redo counted; satisfied → closed
    async with await platform.as_user("zdb") as c:
        issue_id = await _awaiting_visit(c, project["id"])
        r = await act(
            c,
            issue_id,
            "record_visit",
            VISIT | {"satisfied": False, "words": "审查意见附加条件过多", "visited_on": str(clock.today())},
        )
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["step"] == "assigned" and out["redo_count"] == 1
        assert out["satisfied"] is False
        r = await act(c, issue_id, "request_close", {"summary": "已取消不合理附加条件"})
        r = await act(
            c, issue_id, "record_visit", VISIT | {"channel": "on_site", "visited_on": str(clock.today())}
        )
        out = r.json()
    assert out["step"] == "closed" and out["satisfied"] is True and out["redo_count"] == 1
    assert [v["satisfied"] for v in out["visits"]] == [False, True]
    assert out["allowed_actions"] == ["reopen"]
    types = [e["type"] for e in await outbox_events(issue_id)]
    assert types.count("issue.reopened") == 1 and types.count("issue.closed") == 1
    closed = (await outbox_events(issue_id, "issue.closed"))[0]
    assert closed["satisfied"] is True and closed["redo_count"] == 1


async def test_no_visit_never_closes_pending_listed_and_reminded(platform, project):
    # policy R25: silence never closes; pending visits are listed and reminded
    async with await platform.as_user("zdb") as c:
        issue_id = await _awaiting_visit(c, project["id"])
        r = await c.get("/api/v1/issues/visits/pending")
        assert issue_id in [i["issue_id"] for i in r.json()["items"]]
    later = clock.today() + timedelta(days=21)
    while later.weekday() >= 5:
        later += timedelta(days=1)
    async with job_session() as s:
        await supervision.sweep(s, on=later)
    async with job_session() as s:
        await supervision.sweep(s, on=later)  # idempotent: one reminder a day
    async with await platform.as_user("zdb") as c:
        r = await c.get(f"/api/v1/issues/{issue_id}")
        assert r.json()["step"] == "closure_requested"
        r = await c.get("/api/v1/issues/reminders", params={"unit": "office-zdb", "since": str(later)})
    mine = [x for x in r.json()["items"] if x["issue_id"] == issue_id]
    assert [x["kind"] for x in mine] == ["visit_pending"]


async def test_visit_in_the_future_is_422(platform, project):
    # policy R25: a visit is recorded after it happened
    async with await platform.as_user("zdb") as c:
        issue_id = await _awaiting_visit(c, project["id"])
        r = await act(
            c, issue_id, "record_visit", VISIT | {"visited_on": str(clock.today() + timedelta(days=3))}
        )
        assert r.status_code == 422 and r.json()["code"] == "issue.visit_date_invalid"


async def test_open_sub_tasks_block_closure_request(platform, project):
    # policy R25: closure is requested only once every sub-task is done
    soon = str(clock.today() + timedelta(days=10))
    async with await platform.as_user("zdb") as c:
        issue = await report(c, project["id"])
        await walk_to_assigned(
            c,
            issue["id"],
            sub_tasks=[{"title": "出具审查意见", "unit_id": "dept-fgj", "person": "李娜", "deadline": soon}],
        )
    async with await platform.as_user("fgj") as c:  # the responsible unit itself
        r = await act(c, issue["id"], "request_close", {"summary": "已办结"})
        assert r.status_code == 409 and r.json()["open_sub_tasks"] == ["出具审查意见"]
        task_id = (await c.get(f"/api/v1/issues/{issue['id']}")).json()["sub_tasks"][0]["id"]
        r = await act(
            c,
            issue["id"],
            "report_progress",
            {"note": "意见已出具", "sub_task_id": task_id, "sub_task_done": True},
        )
        assert r.status_code == 200, r.text
        r = await act(c, issue["id"], "request_close", {"summary": "已办结"})
        assert r.status_code == 200, r.text
        # only the key office records the visit (an independent verdict)
        r = await act(c, issue["id"], "record_visit", VISIT | {"visited_on": str(clock.today())})
        assert (r.status_code, r.json()["code"]) == (403, "issue.action_forbidden")


async def test_reopen_a_closed_problem_counts_a_redo(platform, project):
    # policy R25: a closed problem that recurs is reopened, with a reason, as a redo
    async with await platform.as_user("zdb") as c:
        issue_id = await _awaiting_visit(c, project["id"])
        await act(c, issue_id, "record_visit", VISIT | {"visited_on": str(clock.today())})
        r = await act(c, issue_id, "reopen", {"reason": "企业再次反映同一问题"})
        assert r.status_code == 200, r.text
        assert r.json()["step"] == "assigned" and r.json()["redo_count"] == 1
