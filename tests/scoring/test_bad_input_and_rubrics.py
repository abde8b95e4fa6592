"""Bad input (R27–R29) and the configurable, versioned rubric (R29)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from services.scoring.rubric import DEFAULT_ITEMS, compute_result, item_points
from shared.clock import today
from shared.months import month_of

RUBRIC = [
    {"metric": "starts", "weight": "40", "method": "rank"},
    {"metric": "investment_completed", "weight": "35", "method": "ratio_to_top"},
    {"metric": "notices", "weight": "25", "method": "ratio_to_top"},
]


async def test_deadline_before_letter_date_is_refused(platform, uniq):
    # policy R28: an assignment letter's deadline cannot precede the letter
    async with await platform.as_user("zdb") as c:
        r = await c.post(
            "/api/v1/assignments",
            json={
                "task": f"倒签期限{uniq}",
                "unit_id": "town-beiling",
                "issued_on": "2024-05-10",
                "deadline": "2024-05-09",
                "source": "leaders_meeting",
            },
        )
        assert r.status_code == 422
        body = r.json()
        assert body["code"] == "assignment.deadline_before_letter"
        assert body["fields"][0]["field"] == "deadline"
        r = await c.post(
            "/api/v1/assignments",
            json={
                "task": f"未知单位{uniq}",
                "unit_id": "town-nowhere",
                "deadline": "2030-01-01",
                "source": "other",
            },
        )
        assert r.status_code == 422 and r.json()["code"] == "unit.unknown"
        r = await c.post(
            "/api/v1/assignments",
            json={
                "task": f"交办重点办{uniq}",
                "unit_id": "office-zdb",
                "deadline": "2030-01-01",
                "source": "other",
            },
        )
        assert r.status_code == 422 and r.json()["code"] == "assignment.unit_not_assessable"
        r = await c.post(
            "/api/v1/assignments",
            json={
                "task": f"未知项目{uniq}",
                "unit_id": "town-beiling",
                "deadline": "2030-01-01",
                "source": "problem",
                "project_id": str(uuid.uuid4()),
            },
        )
        assert r.status_code == 422 and r.json()["code"] == "project.not_found"
        r = await c.get("/api/v1/assignments", params={"unit_id": "town-beiling"})
        assert all(uniq not in a["task"] for a in r.json())
    async with await platform.as_user("chengguan") as c:
        r = await c.post(
            "/api/v1/assignments",
            json={
                "task": f"乡镇自行交办{uniq}",
                "unit_id": "town-chengguan",
                "deadline": "2030-01-01",
                "source": "other",
            },
        )
        assert (r.status_code, r.json()["code"]) == (403, "auth.office_only")


async def test_month_not_yet_ended_cannot_be_run(platform):
    # policy R27: a month is assessed once it is over
    current = month_of(today())
    async with await platform.as_user("zdb") as c:
        for month in (current, "2099-01"):
            r = await c.post(f"/api/v1/assessments/{month}/run")
            assert r.status_code == 422 and r.json()["code"] == "assessment.month_not_ended"
        r = await c.post("/api/v1/assessments/2024-13/run")
        assert r.status_code == 422 and r.json()["code"] == "month.invalid"
        r = await c.get("/api/v1/assessments/1999-01")
        assert r.status_code == 404 and r.json()["code"] == "assessment.not_run"
    async with await platform.as_user("donghe") as c:
        r = await c.post("/api/v1/assessments/2023-01/run")
        assert (r.status_code, r.json()["code"]) == (403, "auth.office_only")


async def test_rubric_weights_must_sum_to_100_and_versions_accumulate(platform):
    # policy R29: a configurable rubric per kind; weights sum to 100
    async with await platform.as_user("zdb") as c:
        bad = [dict(i) for i in RUBRIC]
        bad[0]["weight"] = "41"
        r = await c.post("/api/v1/rubrics", json={"kind": "township", "items": bad})
        assert r.status_code == 422 and r.json()["code"] == "rubric.weights_not_100"
        assert r.json()["weight_sum"] == "101"
        r = await c.post(
            "/api/v1/rubrics",
            json={
                "kind": "township",
                "items": [{"metric": "no_such_metric", "weight": "100", "method": "rank"}],
            },
        )
        assert r.status_code == 422 and r.json()["code"] == "rubric.unknown_metric"
        before = (await c.get("/api/v1/rubrics", params={"kind": "department"})).json()
        r = await c.post(
            "/api/v1/rubrics", json={"kind": "department", "items": RUBRIC, "note": "突出开工与投资"}
        )
        assert r.status_code == 201, r.text
        assert r.json()["version"] == max(x["version"] for x in before) + 1
        after = (await c.get("/api/v1/rubrics", params={"kind": "department"})).json()
        assert [x["version"] for x in after][:-1] == [x["version"] for x in before]
        assert {x["kind"] for x in (await c.get("/api/v1/rubrics")).json()} == {"township", "department"}
        # restore the default so later runs in this session score as documented
        r = await c.post(
            "/api/v1/rubrics",
            json={"kind": "department", "items": DEFAULT_ITEMS["department"], "note": "恢复默认"},
        )
        assert r.status_code == 201
    async with await platform.as_user("fgj") as c:
        r = await c.post("/api/v1/rubrics", json={"kind": "department", "items": RUBRIC})
        assert (r.status_code, r.json()["code"]) == (403, "auth.office_only")


def test_rank_to_points_and_ratio_to_top():
    # policy R29: rank-to-points and ratio-to-top scoring, ties share a rank, n/a scores full
    values = {"a": Decimal(10), "b": Decimal(5), "c": Decimal(5), "d": None}
    ranks = item_points(values, weight=Decimal(20), method="rank", higher_is_better=True)
    assert ranks == {
        "a": Decimal("20.00"),
        "b": Decimal("13.33"),
        "c": Decimal("13.33"),
        "d": Decimal("20.00"),
    }
    ratio = item_points(values, weight=Decimal(20), method="ratio_to_top", higher_is_better=True)
    assert ratio["a"] == Decimal("20.00") and ratio["b"] == Decimal("10.00")
    fewer = item_points(
        {"a": Decimal(0), "b": Decimal(1), "c": Decimal(3)},
        weight=Decimal(10),
        method="ratio_to_top",
        higher_is_better=False,
    )
    assert fewer == {"a": Decimal("10.00"), "b": Decimal("5.00"), "c": Decimal("2.50")}


def test_separate_rubrics_for_townships_and_departments():
    # policy R29: townships and departments are scored under their own rubric and ranked apart
    metrics = {"starts": 2, "investment_completed": "100", "notices": 0}
    inputs = {
        "month": "2023-01",
        "units": {
            "t1": {"name": "甲镇", "kind": "township", "metrics": metrics},
            "t2": {"name": "乙镇", "kind": "township", "metrics": metrics | {"starts": 0}},
            "d1": {"name": "丙局", "kind": "department", "metrics": metrics | {"starts": 0}},
        },
    }
    dept = [{"metric": "notices", "weight": "100", "method": "ratio_to_top"}]
    result = compute_result(
        inputs, {"township": {"version": 7, "items": RUBRIC}, "department": {"version": 3, "items": dept}}
    )
    rows = {u["unit_id"]: u for u in result["units"]}
    assert rows["d1"]["rank"] == 1 and rows["d1"]["score"] == "100.00"
    assert rows["t1"]["rank"] == 1 and rows["t2"]["rank"] == 2
    assert set(rows["t1"]["points"]) == {"starts", "investment_completed", "notices"}
    assert result["rubric_versions"] == {"township": 7, "department": 3}
    assert (
        compute_result(
            inputs, {"township": {"version": 7, "items": RUBRIC}, "department": {"version": 3, "items": dept}}
        )
        == result
    )
