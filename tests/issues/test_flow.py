"""The five steps and the one transition table (policy R22)."""

from __future__ import annotations

from services.issues import flow
from tests.issues.conftest import act, outbox_events, report, walk_to_assigned


async def test_problem_reported_at_discover_step_with_attachments(platform, project):
    # policy R22: step 1, discover — kind, description, source, reporter, attachments
    async with await platform.as_user("chengguan") as c:
        issue = await report(
            c,
            project["id"],
            kind="land",
            source="progress_report",
            attachments=[
                {"name": "现场照片.jpg", "content_type": "image/jpeg", "size": 20480, "sha256": "ab" * 32}
            ],
        )
    assert issue["step"] == "discovered" and issue["step_no"] == 1
    assert issue["allowed_actions"] == ["analyse"]
    assert issue["reporter"] and issue["attachments"][0]["name"] == "现场照片.jpg"
    assert issue["project_code"] == project["project_code"]
    assert issue["project_unit_id"] == "town-chengguan"
    created = await outbox_events(issue["id"], "issue.created")
    assert len(created) == 1 and created[0]["step"] == "discovered"
    assert created[0]["unit_id"] is None and created[0]["redo_count"] == 0


async def test_steps_follow_the_table_and_illegal_action_is_409(platform, project):
    # policy R22: discover → analyse → decompose → assign → close out; anything else is 409
    async with await platform.as_user("zdb") as c:
        issue = await report(c, project["id"])
        r = await act(c, issue["id"], "assign")
        assert r.status_code == 409
        body = r.json()
        assert body["code"] == "issue.action_not_allowed"
        assert body["allowed_actions"] == ["analyse"]
        assert r.headers["content-type"].startswith("application/problem+json")
        r = await act(
            c,
            issue["id"],
            "record_visit",
            {
                "visitor": "张明",
                "channel": "phone",
                "visited_on": "2024-01-01",
                "satisfied": True,
                "words": "好",
            },
        )
        assert r.status_code == 409 and r.json()["allowed_actions"] == ["analyse"]
        r = await act(c, issue["id"], "no_such_action")
        assert r.status_code == 409 and r.json()["allowed_actions"] == ["analyse"]
        assigned = await walk_to_assigned(c, issue["id"])
        assert assigned["step"] == "assigned" and assigned["step_no"] == 4
        assert set(assigned["allowed_actions"]) == {"report_progress", "request_close"}
        r = await act(c, issue["id"], "analyse", {"finding": "再研判", "within_authority": True})
        assert r.status_code == 409
        assert set(r.json()["allowed_actions"]) == {"report_progress", "request_close"}
    # the history shows each step
    actions = [h["action"] for h in assigned["history"]]
    assert actions == ["report", "analyse", "decompose", "assign"]


def test_transition_table_is_the_one_place():
    # policy R22: every step has its allowed actions from the one table
    assert flow.allowed_actions("closure_requested") == ["record_visit"]
    assert flow.allowed_actions("closed") == ["reopen"]
    assert {t.action for t in flow.TABLE} == set(flow.ACTION_NAMES_ZH)
    guarded = [t for t in flow.TABLE if t.guard]
    assert [(t.action, t.guard) for t in guarded] == [("assign", "five_in_place")]


async def test_bad_action_body_is_422_and_writes_nothing(platform, project):
    # policy R22: a malformed analysis leaves the problem where it was
    async with await platform.as_user("zdb") as c:
        issue = await report(c, project["id"])
        r = await act(c, issue["id"], "analyse", {"finding": "x" * 5})
        assert r.status_code == 422
        assert any(f["field"].endswith("within_authority") for f in r.json()["fields"])
        r = await c.get(f"/api/v1/issues/{issue['id']}")
        assert r.json()["step"] == "discovered"
        assert [h["action"] for h in r.json()["history"]] == ["report"]


async def test_stale_if_match_is_412(platform, project):
    # architecture: a stale write is refused, not lost
    async with await platform.as_user("zdb") as c:
        issue = await report(c, project["id"])
        r = await c.post(
            f"/api/v1/issues/{issue['id']}/actions/analyse",
            json={"finding": "研判", "within_authority": True},
            headers={"If-Match": '"99"'},
        )
        assert r.status_code == 412 and r.json()["code"] == "issue.stale"


async def test_if_match_on_an_action_follows_the_one_contract(platform, project):
    # issue 16: W/"1" names version 1 as "1" does; a malformed tag is 422 precondition.invalid
    async with await platform.as_user("zdb") as c:
        issue = await report(c, project["id"])
        url = f"/api/v1/issues/{issue['id']}/actions/analyse"
        body = {"finding": "属发改局职权范围", "within_authority": True}
        r = await c.post(url, json=body, headers={"If-Match": "version-1"})
        assert r.status_code == 422 and r.json()["code"] == "precondition.invalid"
        r = await c.post(url, json=body, headers={"If-Match": 'W/"1"'})
        assert r.status_code == 200, r.text
        assert r.headers["etag"] == '"2"' and r.json()["step"] == "analysed"
