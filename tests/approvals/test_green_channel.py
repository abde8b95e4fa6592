"""容缺/credit commitment (R19) and the fast track (R20) from the registry's record of the
project; three zeros (R21) recorded as facts, answered by the utility."""

from __future__ import annotations

import uuid
from datetime import datetime

from services.approvals.config import approvals_settings
from services.approvals.sweeper import sweep
from shared.db import job_session
from tests.approvals.conftest import outbox_events

PARK = {"category": "industrial", "tags": ["园区", "新材料"]}
TRANSPORT = {"category": "infrastructure", "tags": ["交通", "国道改线"]}
KEY = {
    "libraries": [
        {"library": "annual", "kind": "new", "since": "2026-01-10"},
        {"library": "key", "kind": "new", "level": "county", "since": "2026-02-01"},
    ],
    "contact_leader": "孙丽萍",
    "carrying_unit_name": "枝柯新材料有限公司",
    "team": "新材料项目工作专班",
    "work_plan": "一季度开工、年底主体封顶",
}
ASSISTANT = {"name": "帮办员 孙悦", "phone": "0350-1234567"}


async def _open(platform, project: dict, user: str = "xzsp", **body):
    async with await platform.as_user(user) as c:
        return await c.post(
            "/api/v1/approval-cases", json={"project_id": project["id"], "kind": "low_risk_small", **body}
        )


async def test_tolerance_records_items_and_flags_missed_due_date(hall, clock_at):
    # policy R19: a park industrial project (registry: industrial, tagged 园区) is accepted
    # with missing items without declaring its type; items and due date recorded, a miss flagged
    clock_at(datetime.fromisoformat("2026-11-25T11:00:00+08:00"))
    case = await hall.open_case(
        project=await hall.project(**PARK),
        acceptance_mode="tolerance",
        missing_items=["环评批复（容缺）"],
        missing_items_due="2026-12-10",
    )
    cid = case["id"]
    assert case["project_type"] == "park_industrial"
    assert case["missing_items"] == ["环评批复（容缺）"] and case["missing_items_overdue"] is False
    await hall.event(cid, "accepted", "2026-11-25")  # it proceeds
    async with job_session() as s:
        await sweep(s, case_id=uuid.UUID(cid), now=datetime.fromisoformat("2026-12-11T00:00:00+08:00"))
    missed = await outbox_events(cid, "approval.missing_items_overdue")
    assert len(missed) == 1 and missed[0]["items"] == ["环评批复（容缺）"]
    assert missed[0]["due_date"] == "2026-12-10"
    assert (await hall.get(cid))["missing_items_overdue"] is True


async def test_credit_commitment_items_supplied_in_time_are_not_flagged(hall, clock_at):
    # policy R19: a transport infrastructure project (infrastructure, tagged 交通); items
    # supplied before the due date → no flag
    clock_at(datetime.fromisoformat("2026-11-26T11:00:00+08:00"))
    case = await hall.open_case(
        project=await hall.project(**TRANSPORT),
        project_type="transport_infrastructure",
        acceptance_mode="credit_commitment",
        missing_items=["水土保持方案"],
        missing_items_due="2026-12-10",
    )
    cid = case["id"]
    assert case["project_type"] == "transport_infrastructure"
    await hall.event(cid, "accepted", "2026-11-25")
    await hall.event(cid, "missing_items_supplied", "2026-11-26")
    async with job_session() as s:
        await sweep(s, case_id=uuid.UUID(cid), now=datetime.fromisoformat("2026-12-11T00:00:00+08:00"))
    assert await outbox_events(cid, "approval.missing_items_overdue") == []
    assert (await hall.get(cid))["missing_items_supplied_on"] == "2026-11-26"


async def test_tolerance_eligibility_comes_from_the_registry(hall, platform):
    # policy R19: only park industrial and transport infrastructure projects as the registry
    # records them; a declared type that contradicts the registry is refused
    tolerance = {
        "acceptance_mode": "tolerance",
        "missing_items": ["环评批复"],
        "missing_items_due": "2026-12-01",
    }
    outside_park = await hall.project(category="industrial", tags=["新材料"])
    r = await _open(platform, outside_park, project_type="park_industrial", **tolerance)
    assert r.status_code == 422 and r.json()["code"] == "approval_case.project_type_mismatch"
    assert r.json()["fields"][0]["field"] == "project_type"
    r = await _open(platform, outside_park, **tolerance)
    assert r.status_code == 422 and r.json()["code"] == "approval_case.tolerance_not_eligible"
    assert "园区工业项目和交通基础设施项目" in r.json()["detail"]
    # a park tag on an infrastructure project, a transport tag on a livelihood one: neither
    for over in (
        {"category": "infrastructure", "tags": ["园区"]},
        {"category": "livelihood", "tags": ["交通"]},
    ):
        r = await _open(platform, await hall.project(**over), **tolerance)
        assert r.status_code == 422 and r.json()["code"] == "approval_case.tolerance_not_eligible"
    park = await hall.project(**PARK)
    r = await _open(platform, park, acceptance_mode="tolerance")
    assert r.status_code == 422 and r.json()["code"] == "approval_case.missing_items_required"
    r = await _open(platform, park, **tolerance)
    assert r.status_code == 201 and r.json()["acceptance_mode"] == "tolerance", r.text


async def test_park_tags_are_configuration(hall, platform, monkeypatch):
    # policy R19: which registry tags mark a park (KPP_APPROVALS_PARK_TAGS) is configuration
    monkeypatch.setattr(approvals_settings(), "park_tags", ["经济开发区"])
    tolerance = {"acceptance_mode": "tolerance", "missing_items": ["能评"], "missing_items_due": "2026-12-01"}
    r = await _open(platform, await hall.project(category="industrial", tags=["经济开发区"]), **tolerance)
    assert r.status_code == 201 and r.json()["project_type"] == "park_industrial", r.text
    r = await _open(platform, await hall.project(**PARK), **tolerance)
    assert r.status_code == 422 and r.json()["code"] == "approval_case.tolerance_not_eligible"


async def test_key_project_is_flagged_for_the_fast_track_when_its_case_opens(hall, platform):
    # policy R20: a key project (registry key library) is on the fast track from its opening,
    # without anyone asking; the basis is recorded
    key = await hall.project(**PARK, **KEY)
    r = await _open(platform, key)
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["fast_track"] is True and case["fast_track_basis"] == "key_project"
    opened = await outbox_events(case["id"], "approval.case_opened")
    assert opened[0]["fast_track"] is True and opened[0]["fast_track_basis"] == "key_project"
    async with await platform.as_user("zdb") as c:  # the office designates the assistant
        r = await c.post(
            f"/api/v1/approval-cases/{case['id']}/fast-track",
            json={"fast_track": True, "assistant": ASSISTANT, "reason": "专人帮办"},
        )
        assert r.status_code == 200 and r.json()["assistant"]["name"] == "帮办员 孙悦"


async def test_automatic_fast_track_of_key_projects_is_a_setting(hall, platform, monkeypatch):
    # policy R20: KPP_APPROVALS_KEY_PROJECTS_FAST_TRACK=false leaves it to the office
    monkeypatch.setattr(approvals_settings(), "key_projects_fast_track", False)
    r = await _open(platform, await hall.project(**KEY))
    assert r.status_code == 201 and r.json()["fast_track"] is False
    assert r.json()["fast_track_basis"] is None


async def test_fast_track_only_for_projects_in_a_library(hall, platform):
    # policy R20: a project in no library is refused the fast track, at opening and later
    loose = await hall.project()
    r = await _open(platform, loose, fast_track=True)
    assert r.status_code == 422 and r.json()["code"] == "approval_case.assistant_required"
    r = await _open(platform, loose, fast_track=True, assistant=ASSISTANT)
    assert r.status_code == 422 and r.json()["code"] == "approval_case.fast_track_not_in_library"
    other = await hall.open_case(project=loose)
    async with await platform.as_user("zdb") as c:
        r = await c.post(
            f"/api/v1/approval-cases/{other['id']}/fast-track",
            json={"fast_track": True, "assistant": {"name": "帮办员 周强"}},
        )
        assert r.status_code == 422 and r.json()["code"] == "approval_case.fast_track_not_in_library"


async def test_office_puts_a_library_project_on_the_fast_track(hall, platform):
    # policy R20: a reserve-library project, flagged by the office with a designated assistant
    reserve = await hall.project(libraries=[{"library": "reserve", "since": "2026-03-02"}])
    case = await hall.open_case(project=reserve, fast_track=True, assistant=ASSISTANT)
    assert case["fast_track"] is True and case["fast_track_basis"] == "office_decision"
    assert case["assistant"]["name"] == "帮办员 孙悦"
    other = await hall.open_case(
        project=await hall.project(libraries=[{"library": "reserve", "since": "2026-03-02"}])
    )
    assert other["fast_track"] is False and other["fast_track_basis"] is None
    async with await platform.as_user("chengguan") as c:
        r = await c.post(
            f"/api/v1/approval-cases/{other['id']}/fast-track",
            json={"fast_track": True, "assistant": {"name": "x"}},
        )
        assert (r.status_code, r.json()["code"]) == (403, "auth.office_only")
    async with await platform.as_user("zdb") as c:
        r = await c.post(
            f"/api/v1/approval-cases/{other['id']}/fast-track",
            json={"fast_track": True, "assistant": {"name": "帮办员 周强"}, "reason": "列入省级重点工程"},
        )
        assert r.status_code == 200 and r.json()["fast_track"] is True
        assert r.json()["fast_track_basis"] == "office_decision"
        r = await c.get(
            "/api/v1/approval-cases", params={"fast_track": "true", "project_id": other["project_id"]}
        )
        assert [i["id"] for i in r.json()["items"]] == [other["id"]]
    view = await hall.get(other["id"])
    assert view["history"][-1]["action"] == "fast_track.set"
    assert view["history"][-1]["reason"] == "列入省级重点工程"


async def test_three_zeros_request_records_its_facts_and_the_utility(hall, platform):
    # policy R21: zero visits, zero approvals, zero cost recorded as facts of the case; the
    # power company answers (not a bureau), with its own 5-working-day limit
    async with await platform.as_user("qiye") as c:
        kinds = {k["code"]: k for k in (await c.get("/api/v1/approval-kinds")).json()["items"]}
    assert kinds["three_zeros_power"]["category"] == "three_zeros"
    assert kinds["three_zeros_power"]["total_limit_days"] == 5
    agencies = {
        code: kinds[code]["steps"][0]["agency_unit_id"]
        for code in ("three_zeros_power", "three_zeros_water", "three_zeros_drainage")
    }
    assert agencies == {
        "three_zeros_power": "util-power",
        "three_zeros_water": "util-water",
        "three_zeros_drainage": "util-drainage",
    }
    async with await platform.as_user("zdb") as c:
        unit = (await c.get("/api/v1/units/util-power")).json()
    assert unit["kind"] == "utility" and "供电" in unit["name"]
    case = await hall.open_case(kind="three_zeros_power")
    assert case["three_zeros"] == {
        "zero_visit": True,
        "zero_approval": True,
        "zero_cost": True,
        "note": None,
        "utility_unit_id": "util-power",
    }
    cid = case["id"]
    await hall.event(cid, "accepted", "2026-11-19")
    view = await hall.get(cid)
    # Thu 11/19 + 5: 11/20=1, 11/23=2, 11/24=3, 11/25=4, 11/26=5
    assert view["due_date"] == "2026-11-26"
    assert view["steps"][0]["agency_unit_id"] == "util-power"
    r = await hall.event(cid, "completed", "2026-11-24")
    assert r["case"]["state"] == "done" and r["case"]["three_zeros"]["zero_cost"] is True
    done = await outbox_events(cid, "approval.completed")
    assert done[0]["working_days_used"] == 3 and done[0]["on_time"] is True


async def test_a_zero_not_kept_is_recorded_and_chains_carry_none(hall, platform):
    # policy R21: the hall records a zero that was not kept, with why; a chain has no zeros
    case = await hall.open_case(
        kind="three_zeros_water", three_zeros={"zero_visit": False, "note": "企业负责人到现场确认表位"}
    )
    assert case["three_zeros"]["zero_visit"] is False
    assert case["three_zeros"]["zero_approval"] is True and case["three_zeros"]["zero_cost"] is True
    assert case["three_zeros"]["utility_unit_id"] == "util-water"
    r = await _open(platform, await hall.project(), three_zeros={"zero_cost": True})
    assert r.status_code == 422 and r.json()["code"] == "approval_case.three_zeros_not_applicable"
    assert (await hall.open_case())["three_zeros"] is None
