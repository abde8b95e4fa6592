"""Done-when: an overdue approval → a supervision problem → analysed, decomposed, assigned →
closure requested → a dissatisfied visit reopens it → a satisfied visit closes it, with the
history showing every step. Real relay and workers; the approval event is a real outbox row
of the approvals service."""

from __future__ import annotations

import uuid
from datetime import timedelta

from services.approvals.models import pipeline as approvals_pipeline
from shared import clock
from shared.contracts.approvals import OverdueV1
from shared.db import job_session
from tests.issues.conftest import act, code_for


async def test_overdue_approval_to_closed_problem(platform, uniq):
    # policy R22–R25 end to end, through the gateway
    async with await platform.as_user("zdb") as c:
        r = await c.post(
            "/api/v1/projects",
            json={
                "project_code": code_for(uniq),
                "name": f"城关镇新材料产业园标准厂房{uniq}",
                "unit_id": "town-chengguan",
                "category": "industrial",
                "total_investment": "26000",
            },
        )
        assert r.status_code == 201, r.text
        project = r.json()
    case_id = str(uuid.uuid4())
    due = clock.today() - timedelta(days=2)
    async with job_session() as s:
        await approvals_pipeline.emit(
            s,
            OverdueV1(
                **{
                    "case_id": case_id,
                    "project_id": project["id"],
                    "project_code": project["project_code"],
                    "kind": "enterprise_investment",
                    "unit_id": project["unit_id"],
                    "limit_days": 20,
                    "step_code": "construction_permit",
                    "step_name": "施工许可",
                    "agency_unit_id": "dept-zjj",
                    "due_date": due.isoformat(),
                    "overdue_since": (due + timedelta(days=1)).isoformat(),
                }
            ),
            key=case_id,
        )
    await platform.drain()

    async with await platform.as_user("zdb") as c:
        r = await c.get("/api/v1/issues", params={"project_id": project["id"], "source": "approval_overdue"})
        assert r.json()["total"] == 1
        issue = r.json()["items"][0]
        issue_id = issue["id"]
        assert issue["step"] == "discovered"
        assert issue["five_in_place"]["responsible_unit_id"] == "dept-zjj"

        steps = [
            ("analyse", {"finding": "住建局审查人员不足致超期，属其职权范围", "within_authority": True}),
            (
                "decompose",
                {
                    "responsible_leader": "刘志强",
                    "responsible_person": "住建局 审批股 陈工",
                    "solution": "抽调人员专班审查，三个工作日内核发施工许可",
                    "time_limit_days": 3,
                },
            ),
            ("assign", {"note": "紧盯督办"}),
            ("report_progress", {"note": "已组织专班审查"}),
            ("request_close", {"summary": "施工许可证已核发"}),
            (
                "record_visit",
                {
                    "visitor": "张明",
                    "channel": "phone",
                    "visited_on": str(clock.today()),
                    "satisfied": False,
                    "words": "许可证附带的整改要求不合理",
                },
            ),
            ("request_close", {"summary": "整改要求已按规范调整"}),
            (
                "record_visit",
                {
                    "visitor": "张明",
                    "channel": "on_site",
                    "visited_on": str(clock.today()),
                    "satisfied": True,
                    "words": "问题已解决，满意",
                },
            ),
        ]
        walked = []
        for action, body in steps:
            r = await act(c, issue_id, action, body)
            assert r.status_code == 200, (action, r.text)
            walked.append(r.json()["step"])
        assert walked == [
            "analysed",
            "decomposed",
            "assigned",
            "assigned",
            "closure_requested",
            "assigned",
            "closure_requested",
            "closed",
        ]
        final = (await c.get(f"/api/v1/issues/{issue_id}")).json()

    assert final["step"] == "closed" and final["satisfied"] is True
    assert final["redo_count"] == 1
    history = [h["action"] for h in final["history"]]
    assert history == [
        "open_from_approval_overdue",
        "analyse",
        "decompose",
        "assign",
        "report_progress",
        "request_close",
        "record_visit",
        "request_close",
        "record_visit",
    ]
    steps_after = [h["after"]["step"] for h in final["history"]]
    assert steps_after == [
        "discovered",
        "analysed",
        "decomposed",
        "assigned",
        "assigned",
        "closure_requested",
        "assigned",
        "closure_requested",
        "closed",
    ]
    # the events went through the real relay to the scoring queue
    await platform.drain()
