"""An overdue approval opens one supervision matter per case and agency (R24)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from services.approvals.models import pipeline as approvals_pipeline
from services.issues.models import Issue
from shared import clock
from shared.contracts.approvals import OverdueV1
from shared.db import job_session


def overdue_payload(project: dict, case_id: str, step_code: str | None) -> dict:
    due = clock.today() - timedelta(days=3)
    return {
        "case_id": case_id,
        "project_id": project["id"],
        "project_code": project["project_code"],
        "kind": "enterprise_investment",
        "unit_id": project["unit_id"],
        "limit_days": 20 if step_code else 60,
        "step_code": step_code,
        "step_name": "施工许可" if step_code else None,
        "agency_unit_id": "dept-zjj",
        "due_date": due.isoformat(),
        "overdue_since": (due + timedelta(days=1)).isoformat(),
    }


async def _issues_for(case_id: str) -> list[Issue]:
    async with job_session() as s:
        return list(
            (
                await s.scalars(
                    select(Issue).where(Issue.source_ref.like(f"{case_id}:%")).order_by(Issue.source_ref)
                )
            ).all()
        )


async def test_one_matter_per_case_and_agency_later_breach_adds_to_it(platform, project):
    # policy R24: a one-step breach fires twice (the step, and the chain in that step), both
    # at 住建局: one supervision matter for the case and agency; the second breach is added
    case_id = str(uuid.uuid4())
    for step in ("construction_permit", None, "construction_permit"):
        async with job_session() as s:
            await approvals_pipeline.emit(
                s, OverdueV1.model_validate(overdue_payload(project, case_id, step)), key=case_id
            )
    await platform.drain()
    issues = await _issues_for(case_id)
    assert [i.source_ref for i in issues] == [f"{case_id}:dept-zjj"]
    permit = issues[0]
    assert permit.source == "approval_overdue" and permit.step == "discovered"
    assert permit.responsible_unit_id == "dept-zjj"
    assert permit.project_unit_id == "town-chengguan"
    # the permit breach opened it; the chain's breach was added once (the repeat is not)
    assert "施工许可" in permit.description and permit.description.count("审批全链条") == 1
    # another agency's breach in the same case is that agency's own matter
    async with job_session() as s:
        await approvals_pipeline.emit(
            s,
            OverdueV1.model_validate(
                overdue_payload(project, case_id, "property_certificate")
                | {"agency_unit_id": "dept-zrzy", "step_name": "不动产权证"}
            ),
            key=case_id,
        )
    await platform.drain()
    assert [i.responsible_unit_id for i in await _issues_for(case_id)] == ["dept-zjj", "dept-zrzy"]


async def test_redelivered_event_opens_nothing_new(platform, project, uniq):
    # architecture: an event id processed twice has one effect
    case_id = str(uuid.uuid4())
    event = {
        "id": str(uuid.uuid4()),
        "type": "approval.overdue",
        "source": "approvals",
        "payload": overdue_payload(project, case_id, "filing") | {"event_version": 1},
        "request_id": None,
    }
    for n in range(2):
        await platform.queue.enqueue_job(
            "handle_event", event, _job_id=f"again:{uniq}:{n}", _queue_name="kpp:issues"
        )
    await platform.drain()
    assert len(await _issues_for(case_id)) == 1
