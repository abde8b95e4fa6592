"""Plans and the summary (policy R4, R5, R9, R11) on a year only this test uses, and the demo seed."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from services.registry import seed
from services.registry.config import registry_settings
from services.registry.models import Plan
from services.registry.plans import reserve_ratio
from shared.db import job_session


def key(level: str, kind: str) -> list[dict]:
    span = {"since": "2019-01-01", "until": "2019-12-31"}  # closed: other years stay clean
    return [{"library": "annual", "kind": kind, **span}, {"library": "key", "level": level, **span}]


async def test_summary_counts_rates_targets_and_every_mismatch(platform, make_project, uniq):
    # policy R4, R5, R9, R11
    a = await make_project(
        uniq + "a",
        total_investment="800",
        libraries=key("county", "new"),
        stage="started",
        stage_on="2019-03-01",
        targets=[{"name": "2月前开工", "kind": "start", "due_on": "2019-02-01"}],
    )
    b = await make_project(
        uniq + "b",
        total_investment="6000",
        libraries=key("county", "continued"),
        stage="under_construction",
        stage_on="2018-05-01",
    )
    await make_project(
        uniq + "c", total_investment="4000", category="infrastructure", libraries=key("municipal", "new")
    )
    await make_project(
        uniq + "d",
        total_investment="60000",
        libraries=[{"library": "reserve", "since": "2019-01-01", "until": "2019-12-31"}],
    )
    async with await platform.as_user("zdb") as c:
        for p, month, pct in ((a, "2019-06", "40"), (b, "2019-11", "95")):
            r = await c.post(
                f"/api/v1/projects/{p['id']}/progress",
                json={
                    "month": month,
                    "investment_month": "100",
                    "cumulative_investment": "100",
                    "progress_pct": pct,
                },
            )
            assert r.status_code == 201, r.text
        r = await c.put(
            "/api/v1/plans/2019",
            json={
                "count": 3,
                "total_investment": "10800",
                "by_category": {
                    "industrial": {"count": 2, "total_investment": "6800"},
                    "infrastructure": {"count": 1, "total_investment": "4100"},
                },
                "by_level": {"county": {"count": 2}, "municipal": {"count": 1, "continued": 0, "new": 1}},
                "by_band": {"small": {"count": 1}, "medium": {"count": 1}, "large": {"count": 1}},
            },
        )
        assert r.status_code == 200, r.text
        r = await c.get("/api/v1/plans/2019/summary")
        assert r.status_code == 200, r.text
        s = r.json()
    assert s["key"]["count"] == 3 and s["key"]["total_investment"] == "10800.0000"
    assert {b: v["count"] for b, v in s["by_band"].items()} == {"small": 1, "medium": 1, "large": 1}
    assert s["county_start_rate"]["numerator"] == 2 and s["county_start_rate"]["met"] is True
    # policy R5: 60,000 / 10,800 = 5.5555…; shown to 4 places with its base, 5 × 10,800 = 54,000
    assert s["reserve_ratio"]["value"] == "5.5555" and s["reserve_ratio"]["met"] is True
    assert s["reserve_ratio"]["base"]["required_reserve"] == "54000.0000"
    assert s["municipal"]["new"] == 1 and s["municipal"]["new_started"] == 0
    rules = {
        i["project_code"][-8:]: (i["rule"], i["target_pct"], i["status"]) for i in s["completion_targets"]
    }
    assert rules[a["project_code"][-8:]] == ("basic_completion", "100", "missed")
    assert rules[b["project_code"][-8:]] == ("continued_large", "90", "met")
    assert s["completion_counts"] == {"met": 1, "behind": 0, "missed": 2}
    assert s["named_target_counts"]["missed"] == 1  # started 2019-03-01, due 2019-02-01
    fields = {(m["kind"], m["field"]): m for m in s["mismatches"]}
    internal = fields[("declared_internal", "by_category.total_investment")]
    assert internal["declared"] == "10800.0000" and internal["compared_with"] == "10900.0000"
    assert ("declared_vs_actual", "by_category.infrastructure.total_investment") in fields
    assert ("declared_vs_actual", "count") not in fields  # what agrees is not reported


def test_reserve_ratio_is_decided_on_the_exact_value():
    # policy R5: reserve ≥ 5 × annual. 49,950 / 10,000 = 4.995 — rounded to 0.01 it would
    # read "5.00" and pass; the exact value is short of 5 by 50万.
    short = reserve_ratio(Decimal("49950"), Decimal("10000"), Decimal("5"))
    assert short["met"] is False and short["value"] == Decimal("4.9950")
    assert short["base"]["required_reserve"] == "50000.0000"
    exact = reserve_ratio(Decimal("50000"), Decimal("10000"), Decimal("5"))  # exactly 5 times
    assert exact["met"] is True
    # 50,000.0001 ≥ 5 × 10,000 → met (5.00000001, shown as 5.0000)
    third = reserve_ratio(Decimal("50000.0001"), Decimal("10000"), Decimal("5"))
    assert third["met"] is True
    assert reserve_ratio(Decimal("1"), Decimal("0"), Decimal("5"))["met"] is False  # no base


async def test_plan_is_office_only(platform):
    # policy R4: the key office declares the plan
    async with await platform.as_user("chengguan") as c:
        r = await c.put("/api/v1/plans/2018", json={"count": 1, "total_investment": "1"})
        assert (r.status_code, r.json()["code"]) == (403, "auth.office_only")


async def test_demo_seed_loads_once_and_shows_the_declared_mismatch(platform):
    # policy R2, R3, R4, R5: the seed's 2023 plan; 368.49亿 of records against 368.17亿 declared
    async with job_session() as s:
        loaded_before = await s.scalar(select(Plan.year).where(Plan.year == 2023)) is not None
        first = await seed.seed_demo(s)
    async with job_session() as s:
        again = await seed.seed_demo(s)
    # the first call loads unless an earlier test of this run already did; the second never
    assert first is (not loaded_before) and again is False
    async with await platform.as_user("leader") as c:
        r = await c.get("/api/v1/plans/2023/summary")
        assert r.status_code == 200, r.text
        s = r.json()
    assert s["key"]["count"] == 36 and s["key"]["total_yi"] == "368.4900"
    assert {k: v["count"] for k, v in s["by_level"].items()} == {
        "provincial": 2,
        "municipal": 7,
        "county": 27,
    }
    assert {k: v["count"] for k, v in s["by_band"].items()} == {"small": 8, "medium": 5, "large": 23}
    assert {k: v["total_yi"] for k, v in s["by_category"].items()} == {
        "industrial": "305.3000",
        "infrastructure": "47.1100",
        "livelihood": "16.0800",
    }
    assert s["municipal"] == {"continued": 5, "new": 2, "continued_completed": 0, "new_started": 2}
    # policy R11: the 5 municipal continued projects must be basically completed in 2023 (none
    # is: missed, the year is over), the 2 new ones started (both are: met)
    assert s["municipal_targets"]["continued_completed"] == {
        "numerator": 0,
        "denominator": 5,
        "target": 5,
        "met": False,
        "status": "missed",
    }
    assert s["municipal_targets"]["new_started"]["status"] == "met"
    named = {(t["name"], t["target"]): (t["due_on"], t["status"]) for t in s["named_targets"]}
    # the seed: 枝柯煤化工新材料工业园区 务必于6月中旬实质性开工 (started 2023-04-20: met);
    # 心言生物黑木耳产业发展综合开发一期项目 年内完成50%以上建设任务
    assert named[("枝柯煤化工新材料工业园区", "6月中旬实质性开工")] == ("2023-06-20", "met")
    assert ("心言生物黑木耳产业发展综合开发一期项目", "年内完成建设任务50%以上") in named
    assert s["reserve_ratio"]["met"] is True
    assert s["county_start_rate"]["numerator"] == 22 and s["county_start_rate"]["met"] is False
    found = {(m["kind"], m["field"]): m for m in s["mismatches"]}
    internal = found[("declared_internal", "by_category.total_investment")]
    assert (internal["declared"], internal["compared_with"]) == ("3681700.0000", "3684900.0000")
    assert "368.17" in internal["detail"] and "368.49" in internal["detail"]
    assert ("declared_vs_actual", "total_investment") in found
    assert s["declared"]["total_investment"] == "3681700.0000"  # never "fixed"


async def test_completion_rule_boundaries_and_configured_thresholds(platform, make_project, uniq):
    # policy R9: new ≤ 1,000万 and continued ≤ 3,000万 → basically completed; new > 3,000万
    # → 60 %; continued > 3,000万 → 90 %; new between 1,000 and 3,000 → configured, 60 %.
    # A year (2017) only this test uses, memberships closed within it.
    span = {"since": "2017-01-01", "until": "2017-12-31"}
    cases = {
        ("new", "1000"): "basic_completion",
        ("new", "1000.0001"): "new_mid",
        ("new", "3000"): "new_mid",
        ("new", "3000.0001"): "new_large",
        ("continued", "3000"): "basic_completion",
        ("continued", "3000.0001"): "continued_large",
    }
    codes = {}
    for i, (kind, amount) in enumerate(cases):
        p = await make_project(
            f"{uniq[:6]}r{i}",
            total_investment=amount,
            libraries=[{"library": "annual", "kind": kind, **span}],
        )
        codes[p["project_code"]] = (kind, amount)

    async def rules() -> dict:
        async with await platform.as_user("zdb") as c:
            r = await c.get("/api/v1/plans/2017/summary")
            assert r.status_code == 200, r.text
        return {
            codes[i["project_code"]]: (i["rule"], i["target_pct"]) for i in r.json()["completion_targets"]
        }

    got = await rules()
    assert {k: v[0] for k, v in got.items()} == cases
    assert got[("new", "3000")][1] == "60" and got[("continued", "3000.0001")][1] == "90"
    settings = registry_settings()
    saved = settings.r9_new_basic_max
    try:  # the amount thresholds are configuration, not SQL literals
        settings.r9_new_basic_max = Decimal("1000.0001")
        assert (await rules())[("new", "1000.0001")][0] == "basic_completion"
    finally:
        settings.r9_new_basic_max = saved
