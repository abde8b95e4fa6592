"""R10 milestones, R11 targets, R12 lookup by code, R13 use-it-or-lose-it, and events."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from services.registry.jobs import daily_rules
from services.registry.models import pipeline
from services.registry.rules import check_revocations, period_end, record_milestones
from shared.db import job_session


async def outbox(key: str) -> list:
    async with job_session() as s:
        t = pipeline.tables.outbox
        return (await s.execute(select(t.c.type, t.c.payload).where(t.c.key == key).order_by(t.c.seq))).all()


async def test_major_industrial_milestones(platform, make_project, uniq):
    # policy R10: one year building, two years in operation, three years at capacity
    p = await make_project(uniq, major_industrial=True, stage="started", stage_on="2022-03-01")
    async with await platform.as_user("zdb") as c:
        r = await c.patch(
            f"/api/v1/projects/{p['id']}",
            headers={"If-Match": '"1"'},
            json={"stage": "completed", "stage_on": "2023-02-01"},
        )
        assert r.status_code == 200, r.text
    ms = {m["key"]: (m["due_on"], m["status"]) for m in r.json()["milestones"]}
    assert ms["build"] == ("2023-03-01", "met")
    assert ms["operate"] == ("2024-03-01", "missed")  # never reached "effective"
    assert ms["capacity"][0] == "2025-03-01"


async def test_named_targets(platform, make_project, uniq):
    # policy R11: named dated targets, met by the project's own record
    p = await make_project(
        uniq,
        total_investment="1000",
        stage_on="2023-01-01",
        targets=[
            {"name": "6月15日前实质性开工", "kind": "start", "due_on": "2023-06-15"},
            {
                "name": "年内完成建设任务50%以上",
                "kind": "progress",
                "due_on": "2023-12-31",
                "threshold_pct": "50",
            },
        ],
    )
    async with await platform.as_user("zdb") as c:
        r = await c.patch(
            f"/api/v1/projects/{p['id']}",
            headers={"If-Match": '"1"'},
            json={"stage": "started", "stage_on": "2023-06-20"},
        )
        assert r.status_code == 200
        r = await c.post(
            f"/api/v1/projects/{p['id']}/progress",
            json={
                "month": "2023-07",
                "investment_month": "600",
                "cumulative_investment": "600",
                "progress_pct": "55",
            },
        )
        assert r.status_code == 201
        r = await c.get(f"/api/v1/projects/{p['id']}")
    targets = {t["kind"]: (t["met_on"], t["status"]) for t in r.json()["targets"]}
    assert targets["start"] == ("2023-06-20", "missed")  # five days late
    assert targets["progress"] == ("2023-07-31", "met")


async def test_lookup_by_code_for_finance(platform, make_project, uniq):
    # policy R12: no library, no money — in the library? which sub-libraries, since when?
    p = await make_project(
        uniq, government_investment=True, libraries=[{"library": "reserve", "since": "2024-02-01"}]
    )
    async with await platform.as_user("leader") as c:
        r = await c.get(f"/api/v1/projects/by-code/{p['project_code']}")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["in_library"] is True and body["since"] == "2024-02-01"
        assert [m["library"] for m in body["libraries"]] == ["reserve"]
        unknown = p["project_code"][:-6] + "99999Z"  # well-formed, not in the library
        assert unknown != p["project_code"]
        r = await c.get(f"/api/v1/projects/by-code/{unknown}")
        assert r.status_code == 404 and r.json()["in_library"] is False
        r = await c.get("/api/v1/projects/by-code/NOT-A-CODE")
        assert r.status_code == 422 and r.json()["code"] == "project.code_invalid"
    async with await platform.as_user("zdb") as c:
        r = await c.patch(f"/api/v1/projects/{p['id']}", headers={"If-Match": '"1"'}, json={"libraries": []})
        r = await c.get(f"/api/v1/projects/by-code/{p['project_code']}")
        assert r.json()["in_library"] is False and r.json()["history"][0]["until"] is not None


async def test_operation_and_capacity_are_separate_milestones_recorded_by_the_job(
    platform, make_project, uniq
):
    # policy R10: started 2022-03-01 → built by 2023-03-01, operating by 2024-03-01, at design
    # capacity by 2025-03-01. Completed 2023-02-01 and operating since 2023-12-01 but never at
    # capacity: year two is met, year three missed — 投运 is not 达产达效.
    p = await make_project(uniq, major_industrial=True, stage="started", stage_on="2022-03-01")
    async with await platform.as_user("zdb") as c:
        r = await c.patch(
            f"/api/v1/projects/{p['id']}",
            headers={"If-Match": '"1"'},
            json={"stage": "completed", "stage_on": "2023-02-01", "operation_started_on": "2023-12-01"},
        )
        assert r.status_code == 200, r.text
    ms = {m["key"]: (m["due_on"], m["reached_on"], m["status"]) for m in r.json()["milestones"]}
    assert ms["operate"] == ("2024-03-01", "2023-12-01", "met")
    assert ms["capacity"] == ("2025-03-01", None, "missed")
    async with job_session() as s:  # the job on 2024-03-02: build and operate known, capacity not
        await record_milestones(s, date(2024, 3, 2))
    assert [t for t, _ in await outbox(p["id"]) if "milestone" in t] == [
        "project.milestone_met",
        "project.milestone_met",
    ]
    async with job_session() as s:
        await record_milestones(s, date(2025, 3, 1))  # the due day itself: still pending
        await record_milestones(s, date(2025, 3, 2))
        await record_milestones(s, date(2025, 3, 3))  # recorded once
    events = [(t, e["milestone"]) for t, e in await outbox(p["id"]) if "milestone" in t]
    assert events[2:] == [("project.milestone_missed", "capacity")]
    async with await platform.as_user("zdb") as c:
        r = await c.get("/api/v1/projects", params={"milestone": "missed", "q": f"测试项目{uniq}"})
        assert [i["id"] for i in r.json()["items"]] == [p["id"]]


COUNTY_FILED = {
    "approval_kind": "filing",
    "approval_level": "county",
    "approval_authority": "县行政审批服务管理局",
}


async def test_use_it_or_lose_it(platform, make_project, uniq):
    # policy R13: conditions met 2024-01-10; the day itself is not counted, so the two months
    # end with 2024-03-10 (民法典 arts. 200–203): warning 14 days before (2024-02-25),
    # revocation possible from 2024-03-11 only, then a confirmed revocation
    p = await make_project(
        uniq, stage="landed", stage_on="2024-01-05", start_conditions_met_on="2024-01-10", **COUNTY_FILED
    )
    saved = await make_project(
        uniq[::-1],
        stage="landed",
        stage_on="2024-01-05",
        start_conditions_met_on="2024-01-10",
        **COUNTY_FILED,
    )
    async with job_session() as s:
        await check_revocations(s, date(2024, 2, 24))
    async with await platform.as_user("zdb") as c:
        assert (await c.get(f"/api/v1/projects/{p['id']}")).json()["revocation"]["state"] is None
    async with job_session() as s:
        await check_revocations(s, date(2024, 2, 25))
    async with await platform.as_user("zdb") as c:
        rev = (await c.get(f"/api/v1/projects/{p['id']}")).json()["revocation"]
        assert rev == {"state": "warned", "due_on": "2024-03-10", "revoked_on": None}
        etag = (await c.get(f"/api/v1/projects/{saved['id']}")).headers["etag"]
        assert etag == '"2"'  # the warning itself is a change of the project
        r = await c.patch(
            f"/api/v1/projects/{saved['id']}",
            headers={"If-Match": etag},
            json={"stage": "started", "stage_on": "2024-02-26"},
        )
        assert r.status_code == 200
    async with job_session() as s:
        await check_revocations(s, date(2024, 3, 10))  # the period's last day: not yet
    async with await platform.as_user("zdb") as c:
        rev = (await c.get(f"/api/v1/projects/{p['id']}")).json()["revocation"]
        assert rev["state"] == "warned"
        r = await c.post(f"/api/v1/projects/{p['id']}/revocation", json={"reason": "满两个月未开工"})
        assert r.status_code == 409
    async with job_session() as s:
        await check_revocations(s, date(2024, 3, 11))
    async with await platform.as_user("chengguan") as c:
        r = await c.post(f"/api/v1/projects/{p['id']}/revocation", json={"reason": "满两个月未开工"})
        assert (r.status_code, r.json()["code"]) == (403, "auth.office_only")
    async with await platform.as_user("zdb") as c:
        assert (await c.get(f"/api/v1/projects/{saved['id']}")).json()["revocation"]["state"] is None
        r = await c.post(
            f"/api/v1/projects/{p['id']}/revocation", json={"reason": "依规收回", "on": "2024-03-10"}
        )
        assert r.status_code == 422 and r.json()["code"] == "project.revocation_too_early"
        r = await c.post(
            f"/api/v1/projects/{p['id']}/revocation",
            json={"reason": "具备开工条件满两个月未实质性开工，依规收回", "on": "2024-03-11"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["revocation"]["state"] == "revoked"
        r = await c.post(f"/api/v1/projects/{p['id']}/revocation", json={"reason": "再次收回"})
        assert r.status_code == 409
    async with await platform.as_user("leader") as c:  # policy R12: finance sees it
        r = await c.get(f"/api/v1/projects/by-code/{p['project_code']}")
        assert r.json()["qualification_revoked"] is True and r.json()["revoked_on"] == "2024-03-11"
    types = [t for t, _ in await outbox(p["id"])]
    assert types[-3:] == ["project.revocation_warning", "project.revocation_due", "project.revoked"]
    payload = (await outbox(p["id"]))[-2][1]
    assert payload["conditions_met_on"] == "2024-01-10" and payload["due_on"] == "2024-03-10"


async def test_use_it_or_lose_it_is_for_county_level_only(platform, make_project, uniq):
    # policy R13: a project approved (核准) by the municipal level is not the county's to revoke
    p = await make_project(
        uniq,
        stage="landed",
        stage_on="2024-01-05",
        start_conditions_met_on="2024-01-10",
        approval_kind="approval",
        approval_level="municipal",
        approval_authority="市发展和改革委员会",
    )
    assert p["approval_level"] == "municipal" and p["approval_authority"] == "市发展和改革委员会"
    async with job_session() as s:
        await check_revocations(s, date(2024, 5, 1))
    async with await platform.as_user("zdb") as c:
        assert (await c.get(f"/api/v1/projects/{p['id']}")).json()["revocation"]["state"] is None
        r = await c.get(f"/api/v1/projects/by-code/{p['project_code']}")
        assert r.json()["qualification_revoked"] is False


def test_period_end_counts_as_the_civil_code_does():
    # policy R13 (民法典 arts. 200–203): 2023-12-31 + two months → no 31 February, the
    # month's last day, 2024-02-29 (a leap year); 2024-01-10 → 2024-03-10
    assert period_end(date(2023, 12, 31), 2) == date(2024, 2, 29)
    assert period_end(date(2024, 1, 10), 2) == date(2024, 3, 10)


async def test_daily_job_runs_once_per_day(platform):
    # policy R13: the daily job is unique across worker replicas (one row per day)
    first = await daily_rules({}, on="2001-02-20")
    second = await daily_rules({}, on="2001-02-20")
    assert "skipped" not in first and second == {"skipped": True, "on": "2001-02-20"}


async def test_events_carry_the_contract_payload(platform, make_project, uniq):
    # contracts: project.created / updated / stage_changed payloads
    p = await make_project(uniq, stage_on="2024-01-02")
    async with await platform.as_user("zdb") as c:
        r = await c.patch(
            f"/api/v1/projects/{p['id']}",
            headers={"If-Match": '"1"'},
            json={"stage": "landed", "stage_on": "2024-02-02"},
        )
        assert r.status_code == 200
    events = {t: body for t, body in await outbox(p["id"])}
    keys = {
        "id",
        "project_code",
        "name",
        "unit_id",
        "category",
        "total_investment",
        "government_investment",
        "scale_band",
        "libraries",
        "stage",
        "start_conditions_met_on",
        "planned_start",
        "planned_finish",
        "actual_start",
        "tags",
        "version",
    }
    assert keys <= set(events["project.created"]) and keys <= set(events["project.updated"])
    changed = events["project.stage_changed"]
    assert (changed["from_stage"], changed["to_stage"], changed["on"]) == ("signed", "landed", "2024-02-02")
    assert isinstance(events["project.created"]["total_investment"], str)


async def test_import_carries_approval_level_and_operation_date(platform, uniq):
    # policy R13, R10: the ledger records 备案 by the county (so use-it-or-lose-it applies to
    # an imported project too) and the 投运 date apart from 达产达效
    from tests.registry.test_ledger import row, xlsx

    line = row(
        uniq,
        **{
            "核准/备案": "备案",
            "核准/备案机关层级": "县级",
            "核准/备案机关": "县行政审批服务管理局",
            "投运日期": "2025-06-30",
        },
    )
    files = {"file": ("l.xlsx", xlsx([line]), "application/octet-stream")}
    async with await platform.as_user("zdb") as c:
        r = await c.post("/api/v1/projects/import", files=files)
        assert r.status_code == 200, r.text
        r = await c.get(f"/api/v1/projects/by-code/{line[0]}")
        p = (await c.get(f"/api/v1/projects/{r.json()['project_id']}")).json()
    assert (p["approval_kind"], p["approval_level"], p["approval_authority"]) == (
        "filing",
        "county",
        "县行政审批服务管理局",
    )
    assert p["operation_started_on"] == "2025-06-30" and p["capacity_reached_on"] is None
