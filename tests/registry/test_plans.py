"""Plans and the summary (policy R4, R5, R9, R11) on a year only this test uses, and the demo seed."""

from __future__ import annotations

from services.registry import seed
from shared.db import job_session


def key(level: str, kind: str) -> list[dict]:
    span = {"since": "2019-01-01", "until": "2019-12-31"}  # closed: other years stay clean
    return [{"library": "annual", "kind": kind, **span}, {"library": "key", "level": level, **span}]


async def test_summary_counts_rates_targets_and_every_mismatch(platform, make_project, uniq):
    # policy R4, R5, R9, R11
    a = await make_project(uniq + "a", total_investment="800", libraries=key("county", "new"),
                           stage="started", stage_on="2019-03-01",
                           targets=[{"name": "2月前开工", "kind": "start", "due_on": "2019-02-01"}])
    b = await make_project(uniq + "b", total_investment="6000", libraries=key("county", "continued"),
                           stage="under_construction", stage_on="2018-05-01")
    await make_project(uniq + "c", total_investment="4000", category="infrastructure",
                       libraries=key("municipal", "new"))
    await make_project(uniq + "d", total_investment="60000",
                       libraries=[{"library": "reserve", "since": "2019-01-01",
                                        "until": "2019-12-31"}])
    async with await platform.as_user("zdb") as c:
        for p, month, pct in ((a, "2019-06", "40"), (b, "2019-11", "95")):
            r = await c.post(f"/api/v1/projects/{p['id']}/progress", json={
                "month": month, "investment_month": "100", "cumulative_investment": "100",
                "progress_pct": pct})
            assert r.status_code == 201, r.text
        r = await c.put("/api/v1/plans/2019", json={
            "count": 3, "total_investment": "10800",
            "by_category": {"industrial": {"count": 2, "total_investment": "6800"},
                            "infrastructure": {"count": 1, "total_investment": "4100"}},
            "by_level": {"county": {"count": 2}, "municipal": {"count": 1, "continued": 0, "new": 1}},
            "by_band": {"small": {"count": 1}, "medium": {"count": 1}, "large": {"count": 1}}})
        assert r.status_code == 200, r.text
        r = await c.get("/api/v1/plans/2019/summary")
        assert r.status_code == 200, r.text
        s = r.json()
    assert s["key"]["count"] == 3 and s["key"]["total_investment"] == "10800.0000"
    assert {b: v["count"] for b, v in s["by_band"].items()} == {"small": 1, "medium": 1, "large": 1}
    assert s["county_start_rate"]["numerator"] == 2 and s["county_start_rate"]["met"] is True
    assert s["reserve_ratio"]["value"] == "5.56" and s["reserve_ratio"]["met"] is True
    assert s["municipal"]["new"] == 1 and s["municipal"]["new_started"] == 0
    rules = {i["project_code"][-8:]: (i["rule"], i["target_pct"], i["status"])
             for i in s["completion_targets"]}
    assert rules[a["project_code"][-8:]] == ("basic_completion", "100", "missed")
    assert rules[b["project_code"][-8:]] == ("continued_large", "90", "met")
    assert s["completion_counts"] == {"met": 1, "behind": 0, "missed": 2}
    assert s["named_target_counts"]["missed"] == 1  # started 2019-03-01, due 2019-02-01
    fields = {(m["kind"], m["field"]): m for m in s["mismatches"]}
    internal = fields[("declared_internal", "by_category.total_investment")]
    assert internal["declared"] == "10800.0000" and internal["compared_with"] == "10900.0000"
    assert ("declared_vs_actual", "by_category.infrastructure.total_investment") in fields
    assert ("declared_vs_actual", "count") not in fields  # what agrees is not reported


async def test_plan_is_office_only(platform):
    # policy R4: the key office declares the plan
    async with await platform.as_user("chengguan") as c:
        r = await c.put("/api/v1/plans/2018", json={"count": 1, "total_investment": "1"})
        assert r.status_code == 403


async def test_demo_seed_loads_once_and_shows_the_declared_mismatch(platform):
    # policy R2, R3, R4, R5: the seed's 2023 plan; 368.49亿 of records against 368.17亿 declared
    async with job_session() as s:
        first = await seed.seed_demo(s)
    async with job_session() as s:
        again = await seed.seed_demo(s)
    assert again is False and first in (True, False)
    async with await platform.as_user("leader") as c:
        r = await c.get("/api/v1/plans/2023/summary")
        assert r.status_code == 200, r.text
        s = r.json()
    assert s["key"]["count"] == 36 and s["key"]["total_yi"] == "368.4900"
    assert {k: v["count"] for k, v in s["by_level"].items()} == \
        {"provincial": 2, "municipal": 7, "county": 27}
    assert {k: v["count"] for k, v in s["by_band"].items()} == {"small": 8, "medium": 5, "large": 23}
    assert {k: v["total_yi"] for k, v in s["by_category"].items()} == \
        {"industrial": "305.3000", "infrastructure": "47.1100", "livelihood": "16.0800"}
    assert s["municipal"] == {"continued": 5, "new": 2, "continued_completed": 0, "new_started": 2}
    assert s["reserve_ratio"]["met"] is True
    assert s["county_start_rate"]["numerator"] == 22 and s["county_start_rate"]["met"] is False
    found = {(m["kind"], m["field"]): m for m in s["mismatches"]}
    internal = found[("declared_internal", "by_category.total_investment")]
    assert (internal["declared"], internal["compared_with"]) == ("3681700.0000", "3684900.0000")
    assert "368.17" in internal["detail"] and "368.49" in internal["detail"]
    assert ("declared_vs_actual", "total_investment") in found
    assert s["declared"]["total_investment"] == "3681700.0000"  # never "fixed"
