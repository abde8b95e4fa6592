"""R29 year-end: the months combined with the year-end items; commendations and funding priority."""

from __future__ import annotations

from tests.scoring.conftest import emit, project_payload

YEAR = 2022


async def test_year_end_combines_months_and_excludes_summoned_units(platform, uniq):
    # policy R29 (and R28): good performers are commended and flagged for next-year funding
    # priority; a unit summoned during the year is not commended
    strong = project_payload(uniq, "town-beiling", planned_start=f"{YEAR}-03-02")
    await emit("registry", "project.created", strong)
    await emit(
        "registry",
        "project.stage_changed",
        strong
        | {
            "version": 2,
            "stage": "started",
            "from_stage": "landed",
            "to_stage": "started",
            "on": f"{YEAR}-03-03",
        },
    )
    for month in (f"{YEAR}-03", f"{YEAR}-04"):
        await emit(
            "registry",
            "project.progress_reported",
            {
                "project_id": strong["id"],
                "project_code": strong["project_code"],
                "unit_id": "town-beiling",
                "month": month,
                "investment_month": "9000",
                "cumulative_investment": "9000",
                "progress_pct": 30,
                "reported_at": f"{month}-25T08:00:00+08:00",
                "on_time": True,
                "version": 3,
            },
        )
    await platform.drain()
    async with await platform.as_user("zdb") as c:
        r = await c.post(
            "/api/v1/assignments",
            json={
                "task": f"北岭乡矛盾调处{uniq}",
                "unit_id": "town-beiling",
                "issued_on": f"{YEAR}-03-01",
                "deadline": f"{YEAR}-03-15",
                "source": "consultation",
            },
        )
        assert r.status_code == 201
        for month in (f"{YEAR}-03", f"{YEAR}-04"):
            assert (await c.post(f"/api/v1/assessments/{month}/run")).status_code == 200
            r = await c.post(f"/api/v1/assessments/{month}/publish")
            assert r.status_code == 200, r.text
        r = await c.get(f"/api/v1/assessments/year/{YEAR}")
        assert r.status_code == 200, r.text
        body = r.json()
    assert body["months_published"] == [f"{YEAR}-03", f"{YEAR}-04"] and body["final"] is False
    towns = {u["unit_id"]: u for u in body["township"]}
    beiling = towns["town-beiling"]
    assert beiling["rank"] == 1 and beiling["summons_deputy"] >= 1
    assert beiling["commended"] is False and beiling["funding_priority"] is False
    assert set(beiling["monthly"]) == {f"{YEAR}-03", f"{YEAR}-04"}
    assert beiling["year_items"]["start_rate"] == "1.0000"
    assert beiling["year_items"]["assignment_on_time_rate"] == "0.0000"
    kinds = {c["kind"] for c in body["commendations"]}
    assert kinds == {"township", "department"}
    assert body["funding_priority"] == [c["unit_id"] for c in body["commendations"]]
    for c in body["commendations"]:
        row = next(u for u in body[c["kind"]] if u["unit_id"] == c["unit_id"])
        assert row["funding_priority"] is True and row["summons_deputy"] + row["summons_principal"] == 0
