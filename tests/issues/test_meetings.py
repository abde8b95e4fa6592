"""Periodic consultation meetings: agenda items and decisions written back (R26)."""

from __future__ import annotations

from shared import clock
from tests.issues.conftest import act, report, walk_to_assigned


async def test_meeting_agenda_and_decisions_written_back(platform, project):
    # policy R26: problems go on a meeting's agenda; the decision lands on each problem
    async with await platform.as_user("chengguan") as c:
        first = await report(c, project["id"], kind="land", description="用地报批卡在省厅")
        second = await report(c, project["id"], kind="funds", description="配套资金未到位")
    async with await platform.as_user("zdb") as c:
        r = await c.post(
            "/api/v1/meetings",
            json={
                "title": "第三季度重点项目问题会诊会",
                "held_on": str(clock.today()),
                "chair": "韩振东",
                "attendee_unit_ids": ["dept-zrzy", "dept-czj", "town-chengguan"],
                "issue_ids": [first["id"]],
            },
        )
        assert r.status_code == 201, r.text
        meeting = r.json()
        r = await c.post(
            f"/api/v1/meetings/{meeting['id']}/agenda", json={"issue_ids": [second["id"], first["id"]]}
        )
        assert [i["issue_id"] for i in r.json()["agenda"]] == [first["id"], second["id"]]
        r = await c.post(
            f"/api/v1/meetings/{meeting['id']}/decisions",
            json={"issue_id": first["id"], "decision": "由自然资源局牵头，十个工作日内完成组卷上报"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["agenda"][0]["decision"].startswith("由自然资源局牵头")
        detail = (await c.get(f"/api/v1/issues/{first['id']}")).json()
    assert detail["meetings"][0]["decision"].startswith("由自然资源局牵头")
    history = [(h["action"], h["reason"]) for h in detail["history"]]
    assert history[-2][0] == "put_on_agenda"
    assert history[-1] == ("meeting_decision", "由自然资源局牵头，十个工作日内完成组卷上报")


async def test_meeting_rules(platform, project):
    # policy R26: only the key office convenes; decisions only for agenda items; closed
    # problems are not put on the agenda
    async with await platform.as_user("chengguan") as c:
        issue = await report(c, project["id"])
        r = await c.post(
            "/api/v1/meetings", json={"title": "越权会议", "held_on": "2026-01-05", "chair": "王芳"}
        )
        assert (r.status_code, r.json()["code"]) == (403, "auth.office_only")
    async with await platform.as_user("zdb") as c:
        r = await c.post(
            "/api/v1/meetings", json={"title": "月度会诊", "held_on": "2026-01-05", "chair": "周立新"}
        )
        meeting_id = r.json()["id"]
        r = await c.post(
            f"/api/v1/meetings/{meeting_id}/decisions", json={"issue_id": issue["id"], "decision": "先研判"}
        )
        assert r.status_code == 422 and r.json()["code"] == "meeting.not_on_agenda"
        await walk_to_assigned(c, issue["id"])
        await act(c, issue["id"], "request_close", {"summary": "已办结"})
        await act(
            c,
            issue["id"],
            "record_visit",
            {
                "visitor": "张明",
                "channel": "phone",
                "visited_on": str(clock.today()),
                "satisfied": True,
                "words": "满意",
            },
        )
        r = await c.post(f"/api/v1/meetings/{meeting_id}/agenda", json={"issue_ids": [issue["id"]]})
        assert r.status_code == 409 and r.json()["code"] == "meeting.issue_closed"
