"""The five in place before assignment; lead and assisting units with their own tasks (R23)."""

from __future__ import annotations

from datetime import timedelta

from shared import clock
from tests.issues.conftest import FIVE, act, outbox_events, report


async def _analysed(c, project_id, within=True) -> str:
    issue = await report(c, project_id)
    r = await act(c, issue["id"], "analyse", {"finding": "需多部门协同", "within_authority": within})
    assert r.status_code == 200, r.text
    return issue["id"]


async def test_assign_refused_naming_each_missing_field(platform, project):
    # policy R23: no assignment until unit, leader, person, solution and time limit are set
    async with await platform.as_user("zdb") as c:
        issue_id = await _analysed(c, project["id"])
        r = await act(c, issue_id, "decompose", {"responsible_unit_id": "dept-fgj", "solution": "并联审查"})
        assert r.status_code == 200
        assert r.json()["five_in_place"]["missing"] == [
            "responsible_leader",
            "responsible_person",
            "time_limit",
        ]
        r = await act(c, issue_id, "assign")
        assert r.status_code == 422
        body = r.json()
        assert body["code"] == "issue.not_ready_for_assignment"
        assert body["missing"] == ["responsible_leader", "responsible_person", "time_limit"]
        assert [f["field"] for f in body["fields"]] == body["missing"]
        assert "责任领导" in body["detail"] and "办理时限" in body["detail"]
        r = await c.get(f"/api/v1/issues/{issue_id}")
        assert r.json()["step"] == "decomposed"
        assert await outbox_events(issue_id, "issue.assigned") == []
        # with the five in place it is assigned, the deadline counted in working days
        r = await act(
            c,
            issue_id,
            "decompose",
            {"responsible_leader": "李建华", "responsible_person": "李娜", "time_limit_days": 5},
        )
        r = await act(c, issue_id, "assign")
        assert r.status_code == 200, r.text
        out = r.json()
    assert out["step"] == "assigned" and out["five_in_place"]["complete"]
    assert out["working_days_left"] == 5 and out["overdue"] is False
    assigned = await outbox_events(issue_id, "issue.assigned")
    assert len(assigned) == 1 and assigned[0]["unit_id"] == "dept-fgj"
    assert assigned[0]["deadline"] == out["deadline"]


async def test_beyond_authority_needs_assisting_units_with_their_own_tasks(platform, project):
    # policy R23: the unit leads (领办) what is within its authority; beyond it others help (帮办)
    async with await platform.as_user("zdb") as c:
        issue_id = await _analysed(c, project["id"], within=False)
        r = await act(c, issue_id, "decompose", FIVE)
        r = await act(c, issue_id, "assign")
        assert r.status_code == 422 and r.json()["missing"] == ["assisting_unit_ids"]
        soon = (clock.today() + timedelta(days=20)).isoformat()
        r = await act(
            c,
            issue_id,
            "decompose",
            {
                "assisting_unit_ids": ["dept-zrzy", "dept-sthj"],
                "sub_tasks": [
                    {"title": "出具节能审查意见", "unit_id": "dept-fgj", "person": "李娜", "deadline": soon},
                    {"title": "核实用地指标", "unit_id": "dept-zrzy", "person": "王工", "deadline": soon},
                ],
            },
        )
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["lead_unit_id"] == "dept-fgj"
        assert out["assisting_unit_ids"] == ["dept-zrzy", "dept-sthj"]
        roles = {t["unit_id"]: t["role"] for t in out["sub_tasks"]}
        assert roles == {"dept-fgj": "lead", "dept-zrzy": "assist"}
        r = await act(c, issue_id, "assign")
        assert r.status_code == 200, r.text


async def test_sub_task_of_a_unit_not_involved_is_422(platform, project):
    # policy R23: each sub-task belongs to the lead or an assisting unit
    async with await platform.as_user("zdb") as c:
        issue_id = await _analysed(c, project["id"])
        soon = (clock.today() + timedelta(days=5)).isoformat()
        r = await act(
            c,
            issue_id,
            "decompose",
            FIVE
            | {
                "sub_tasks": [
                    {"title": "协调供电", "unit_id": "dept-jtj", "person": "郑工", "deadline": soon}
                ]
            },
        )
        assert r.status_code == 422
        assert r.json()["code"] == "issue.sub_task_unit_invalid"
        assert r.json()["fields"][0]["field"] == "sub_tasks.0.unit_id"


async def test_deadline_in_the_past_is_422(platform, project):
    # policy R24: a time limit cannot already be over
    yesterday = (clock.today() - timedelta(days=2)).isoformat()
    async with await platform.as_user("zdb") as c:
        issue_id = await _analysed(c, project["id"])
        r = await act(c, issue_id, "decompose", {"deadline": yesterday})
        assert r.status_code == 422 and r.json()["code"] == "issue.deadline_in_past"
        assert r.json()["fields"][0]["field"] == "deadline"
        r = await act(
            c,
            issue_id,
            "decompose",
            FIVE
            | {
                "sub_tasks": [
                    {"title": "补充材料", "unit_id": "dept-fgj", "person": "李娜", "deadline": yesterday}
                ]
            },
        )
        assert r.status_code == 422 and r.json()["code"] == "issue.deadline_in_past"
        assert r.json()["fields"][0]["field"] == "sub_tasks.0.deadline"
        r = await c.get(f"/api/v1/issues/{issue_id}")
        assert r.json()["five_in_place"]["responsible_unit_id"] is None  # nothing half-written


async def test_unknown_unit_is_422(platform, project):
    # policy R23: the responsible unit is one of the directory's units
    async with await platform.as_user("zdb") as c:
        issue_id = await _analysed(c, project["id"])
        r = await act(c, issue_id, "decompose", {"responsible_unit_id": "dept-nowhere"})
        assert r.status_code == 422 and r.json()["code"] == "unit.unknown"


async def test_only_the_office_assigns(platform, project):
    # policy R23: 交办 is the key office's act; the project's township prepares the five
    async with await platform.as_user("chengguan") as c:
        issue_id = await _analysed(c, project["id"])
        r = await act(c, issue_id, "decompose", FIVE)
        assert r.status_code == 200, r.text
        r = await act(c, issue_id, "assign")
        assert r.status_code == 403 and r.json()["code"] == "issue.action_forbidden"
