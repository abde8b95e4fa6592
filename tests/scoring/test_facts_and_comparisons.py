"""R27 monthly tracking from the other services' events, and R30 five comparisons."""

from __future__ import annotations

import uuid
from decimal import Decimal

from tests.scoring.conftest import emit, issue_payload, project_payload

# a month no other test (nor the registry demo seed, 2023) writes facts into
MONTH = "2019-10"


async def test_month_figures_come_from_project_approval_and_issue_events(platform, uniq):
    # policy R27: starts, investment, reports on time, reserve added, approvals on time,
    # problems resolved on time, satisfaction and overdue matters per unit and month
    started = project_payload(
        uniq,
        "town-qingshi",
        planned_start="2019-10-05",
        libraries=[{"library": "reserve", "kind": None, "level": None, "since": "2019-10-02", "until": None}],
        created_at="2019-10-02T02:00:00+00:00",
    )
    silent = project_payload(uniq, "town-qingshi", planned_start="2019-10-20")
    await emit("registry", "project.created", started)
    await emit("registry", "project.created", silent)
    await emit(
        "registry",
        "project.stage_changed",
        started
        | {
            "stage": "started",
            "version": 2,
            "actual_start": "2019-10-12",
            "from_stage": "landed",
            "to_stage": "started",
            "on": "2019-10-12",
        },
    )
    await emit(
        "registry",
        "project.progress_reported",
        {
            "project_id": started["id"],
            "project_code": started["project_code"],
            "unit_id": "town-qingshi",
            "month": MONTH,
            "investment_month": "500.2500",
            "cumulative_investment": "500.2500",
            "progress_pct": 10,
            "reported_at": "2019-10-30T08:00:00+08:00",
            "on_time": True,
            "version": 3,
        },
    )
    await emit(
        "registry",
        "project.report_missing",
        {"project_id": silent["id"], "unit_id": "town-qingshi", "month": MONTH, "deadline": "2019-11-05"},
    )
    case_ok, case_late = str(uuid.uuid4()), str(uuid.uuid4())
    for case in (case_ok, case_late):
        await emit(
            "approvals",
            "approval.case_opened",
            {
                "case_id": case,
                "project_id": started["id"],
                "project_code": started["project_code"],
                "kind": "low_risk_small",
                "unit_id": "town-qingshi",
                "fast_track": False,
                "fast_track_basis": None,
                "acceptance_mode": "standard",
                "agency_unit_ids": ["dept-zjj", "dept-xzsp"],
            },
        )
    await emit(
        "approvals",
        "approval.completed",
        {
            "case_id": case_ok,
            "project_id": started["id"],
            "project_code": started["project_code"],
            "kind": "low_risk_small",
            "completed_on": "2019-10-20",
            "working_days_used": 8,
            "limit_days": 15,
            "on_time": True,
            "agency_unit_ids": ["dept-zjj", "dept-xzsp"],
            "unit_id": "town-qingshi",
            "steps": [],
        },
    )
    await emit(
        "approvals",
        "approval.completed",
        {
            "case_id": case_late,
            "project_id": started["id"],
            "project_code": started["project_code"],
            "kind": "low_risk_small",
            "completed_on": "2019-10-25",
            "working_days_used": 20,
            "limit_days": 15,
            "on_time": False,
            "agency_unit_ids": ["dept-zjj"],
            "unit_id": "town-qingshi",
            "steps": [],
        },
    )
    overdue = {
        "case_id": case_late,
        "project_id": started["id"],
        "project_code": started["project_code"],
        "kind": "low_risk_small",
        "step_code": "construction_permit",
        "step_name": "施工许可",
        "agency_unit_id": "dept-zjj",
        "due_date": "2019-10-16",
        "overdue_since": "2019-10-17",
        "unit_id": "town-qingshi",
        "limit_days": 5,
    }
    await emit("approvals", "approval.overdue", overdue)
    await emit("approvals", "approval.overdue", overdue)  # the same matter announced twice counts once
    good = issue_payload(
        "town-qingshi", deadline="2019-10-31", satisfied=True, occurred_at="2019-10-18T03:00:00+00:00"
    )
    late = issue_payload(
        "town-qingshi",
        deadline="2019-10-10",
        overdue=True,
        satisfied=False,
        occurred_at="2019-10-11T03:00:00+00:00",
    )
    await emit(
        "issues", "issue.created", good | {"step": "discovered", "occurred_at": "2019-10-03T03:00:00Z"}
    )
    await emit("issues", "issue.overdue", late | {"step": "assigned", "overdue_since": "2019-10-11"})
    await emit("issues", "issue.closed", good)
    await emit("issues", "issue.closed", late | {"occurred_at": "2019-10-22T03:00:00+00:00"})
    await platform.drain()

    async with await platform.as_user("zdb") as c:
        r = await c.post(f"/api/v1/assessments/{MONTH}/run")
        assert r.status_code == 200, r.text
        body = r.json()
    units = {u["unit_id"]: u for u in body["units"]}
    qs = units["town-qingshi"]["figures"]
    assert qs["starts"] == 1 and qs["start_planned"] == 2 and qs["start_done"] == 1
    assert qs["start_rate"] == "0.5000"
    assert qs["investment_completed"] == "500.2500"
    assert qs["reports_due"] == 2 and qs["reports_on_time"] == 1 and qs["report_on_time_rate"] == "0.5000"
    assert qs["reserve_added"] == 1 and qs["signed_count"] == 1
    assert qs["approvals_completed"] == 2
    assert qs["problems_closed"] == 2 and qs["problems_on_time"] == 1
    assert qs["satisfaction_rate"] == "0.5000"
    # the missing report and the overdue problem are this township's overdue matters
    assert qs["overdue_matters"] == 2
    zjj = units["dept-zjj"]["figures"]
    assert zjj["approvals_done"] == 2 and zjj["approval_on_time_rate"] == "0.5000"
    assert zjj["overdue_matters"] == 1
    assert units["dept-xzsp"]["figures"]["approval_on_time_rate"] == "1.0000"
    assert Decimal(units["dept-zjj"]["score"]) < Decimal(units["dept-xzsp"]["score"])

    # policy R30: five ranked tables, townships and departments ranked separately
    comps = body["comparisons"]
    assert list(comps) == ["planning", "contracts", "starts", "production", "service"]
    for table in comps.values():
        ranks = [row["rank"] for row in table["township"]]
        assert ranks == sorted(ranks) and ranks[0] == 1
        assert {row["unit_id"] for row in table["department"]} >= {"dept-zjj", "dept-xzsp"}
    assert comps["starts"]["township"][0]["unit_id"] == "town-qingshi"
    assert comps["planning"]["township"][0]["unit_id"] == "town-qingshi"
    service = {row["unit_id"]: row["rank"] for row in comps["service"]["department"]}
    assert service["dept-xzsp"] < service["dept-zjj"]


async def test_event_before_creation_and_stale_update_are_ordered_by_version(platform, uniq):
    # architecture: consumers tolerate out-of-order delivery (policy R27 facts stay right)
    p = project_payload(uniq, "town-nanchuan", planned_start="2019-08-01")
    await emit(
        "registry", "project.updated", p | {"version": 3, "actual_start": "2019-08-09", "stage": "started"}
    )
    await platform.drain()
    await emit("registry", "project.created", p)  # version 1 arrives last
    await platform.drain()
    from services.scoring.models import ProjectFact
    from shared.db import job_session

    async with job_session() as session:
        fact = await session.get(ProjectFact, uuid.UUID(p["id"]))
    assert fact is not None and fact.created_event_id is not None
    assert fact.version == 3 and str(fact.actual_start) == "2019-08-09" and fact.stage == "started"
