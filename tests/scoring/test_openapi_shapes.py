"""The documented response models match the JSON the scoring endpoints really answer.

Every model forbids extra keys, so a key an endpoint answers but the OpenAPI does not name
fails here; every required field must be present. Months 2015-03/2015-04 (year 2015)
belong to this test only.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from services.scoring.schemas import AssignmentOut, ObjectionOut, RubricOut, SummonsOut, UnitNotices
from services.scoring.schemas_assessment import AssessmentOut, AssessmentRunOut, YearResultOut
from services.scoring.schemas_problem import ScoringProblem
from tests.scoring.conftest import emit, project_payload

YEAR = 2015
MARCH, APRIL = f"{YEAR}-03", f"{YEAR}-04"
UNIT = "town-xishan"


def ok(model: Any, r, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return TypeAdapter(model).validate_python(r.json())


def problem(r, status: int, code: str) -> ScoringProblem:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    p = ScoringProblem.model_validate(r.json())
    assert p.code == code and p.status == status
    return p


async def _facts(uniq: str) -> None:
    p = project_payload(uniq, UNIT, planned_start=f"{YEAR}-03-02")
    await emit("registry", "project.created", p)
    await emit(
        "registry",
        "project.stage_changed",
        p
        | {
            "version": 2,
            "stage": "started",
            "from_stage": "landed",
            "to_stage": "started",
            "on": f"{YEAR}-03-05",
        },
    )
    await emit(
        "registry",
        "project.progress_reported",
        {
            "project_id": p["id"],
            "project_code": p["project_code"],
            "unit_id": UNIT,
            "month": MARCH,
            "investment_month": "1234.5",
            "cumulative_investment": "1234.5",
            "progress_pct": 10,
            "reported_at": f"{MARCH}-25T08:00:00+08:00",
            "on_time": True,
            "version": 3,
        },
    )


async def test_assessment_and_supervision_bodies_match_their_models(platform, uniq):
    # policy R27 (figures from the facts), R28 (notices, summons), R29 (runs, publish,
    # year end), R30 (five comparisons): each real body validates against its documented model
    await _facts(uniq)
    await platform.drain()
    async with await platform.as_user("zdb") as c:
        a = ok(
            AssignmentOut,
            await c.post(
                "/api/v1/assignments",
                json={
                    "task": f"西山乡整改{uniq}",
                    "unit_id": UNIT,
                    "issued_on": f"{MARCH}-01",
                    "deadline": f"{MARCH}-10",
                    "source": "supervision",
                    "letter_no": f"督{uniq}",
                },
            ),
            201,
        )
        ok(list[RubricOut], await c.get("/api/v1/rubrics"))

        # policy R29: the run's body (draft), with what this run did
        march = ok(AssessmentRunOut, await c.post(f"/api/v1/assessments/{MARCH}/run"))
        assert march.action in ("created", "updated") and march.status == "draft"
        assert march.reproduced is None and march.published_at is None
        assert any(n.assignment_id == a.id and n.ordinal == 1 for n in march.notices)  # policy R28
        xishan = next(u for u in march.units if u.unit_id == UNIT)
        assert xishan.figures.investment_completed == "1234.5000" and xishan.figures.starts == 1  # R27
        assert xishan.points and xishan.score.count(".") == 1
        assert any(r.unit_id == UNIT for r in march.comparisons.starts.township)  # policy R30
        april = ok(AssessmentRunOut, await c.post(f"/api/v1/assessments/{APRIL}/run"))
        assert any(n.assignment_id == a.id and n.ordinal == 2 for n in april.notices)  # policy R28

        # policy R28: the unit's notices with the summons the second one brought
        notices = ok(UnitNotices, await c.get(f"/api/v1/units/{UNIT}/notices"))
        ours = [n for n in notices.notices if n.assignment_id == a.id]
        assert [n.ordinal for n in ours] == [1, 2] and ours[1].summons is not None
        summons = ok(
            list[SummonsOut], await c.get("/api/v1/summons", params={"unit_id": UNIT, "month": APRIL})
        )
        s = next(x for x in summons if x.assignment_id == a.id)
        held = ok(
            SummonsOut,
            await c.post(
                f"/api/v1/summons/{s.id}/outcome",
                json={
                    "held_on": s.issued_on.isoformat(),
                    "outcome": "已约谈，限期整改",
                },
            ),
        )
        assert held.status == "held"
        problem(
            await c.post(
                f"/api/v1/summons/{s.id}/outcome",
                json={
                    "held_on": s.issued_on.isoformat(),
                    "outcome": "再次记录",
                },
            ),
            409,
            "summons.already_held",
        )

        # the letter done (after both months, so no later month notices it again) and judged
        ok(
            AssignmentOut,
            await c.post(
                f"/api/v1/assignments/{a.id}/complete",
                json={"completed_on": f"{YEAR}-05-05", "note": "已整改"},
            ),
        )
        p = problem(
            await c.post(f"/api/v1/assignments/{a.id}/complete", json={}), 409, "assignment.already_completed"
        )
        assert p.status_now == "completed"
        ok(AssignmentOut, await c.post(f"/api/v1/assignments/{a.id}/judge", json={"verdict": "accepted"}))
        ok(AssignmentOut, await c.get(f"/api/v1/assignments/{a.id}"))
        ok(list[AssignmentOut], await c.get("/api/v1/assignments", params={"unit_id": UNIT}))

        # policy R29: objection while draft blocks publishing (409 with objection_ids)
        async with await platform.as_user("chengguan") as town:
            o = ok(
                ObjectionOut,
                await town.post(
                    f"/api/v1/assessments/{MARCH}/objections",
                    json={"item": "starts", "reason": f"开工数有误{uniq}"},
                ),
                201,
            )
            ok(list[ObjectionOut], await town.get(f"/api/v1/assessments/{MARCH}/objections"))
        p = problem(await c.post(f"/api/v1/assessments/{MARCH}/publish"), 409, "assessment.open_objections")
        assert p.objection_ids and str(o.id) in p.objection_ids
        ok(
            ObjectionOut,
            await c.post(
                f"/api/v1/assessments/{MARCH}/objections/{o.id}/resolve",
                json={"accepted": False, "resolution": "数据无误"},
            ),
        )
        published = ok(AssessmentOut, await c.post(f"/api/v1/assessments/{MARCH}/publish"))
        assert published.status == "published" and published.published_at is not None
        problem(await c.post(f"/api/v1/assessments/{MARCH}/publish"), 409, "assessment.already_published")
        again = ok(AssessmentRunOut, await c.post(f"/api/v1/assessments/{MARCH}/run"))
        assert again.action == "reproduced" and again.reproduced is True and again.notices_issued == 0
        got = ok(AssessmentOut, await c.get(f"/api/v1/assessments/{MARCH}"))
        assert got.units == published.units

        # policy R29: the year-end result over the published month
        year = ok(YearResultOut, await c.get(f"/api/v1/assessments/year/{YEAR}"))
        assert year.months_published == [MARCH] and year.final is False
        row = next(u for u in year.township if u.unit_id == UNIT)
        assert row.year_items.start_rate == "1.0000" and row.summons_deputy >= 1
        assert row.commended is False and set(row.monthly) == {MARCH}
        assert year.funding_priority == [x.unit_id for x in year.commendations]

        # the documented refusals are problem details
        problem(await c.get(f"/api/v1/assessments/{YEAR}-13"), 422, "month.invalid")
        problem(await c.get(f"/api/v1/assessments/{YEAR}-02"), 404, "assessment.not_run")
        p = problem(await c.get("/api/v1/assessments/year/1999"), 422, "year.invalid")
        assert p.fields and p.fields[0].field == "year"
        p = problem(await c.post("/api/v1/assignments", json={}), 422, "request.invalid")
        assert p.fields and all(f.type for f in p.fields)
        p = problem(
            await c.post(
                "/api/v1/rubrics",
                json={"kind": "township", "items": [{"metric": "starts", "weight": "50", "method": "rank"}]},
            ),
            422,
            "rubric.weights_not_100",
        )
        assert p.weight_sum == "50"
        for ext, mime in (("xlsx", "spreadsheetml"), ("docx", "wordprocessingml")):
            r = await c.get(f"/api/v1/bulletins/{MARCH}.{ext}")
            assert r.status_code == 200 and mime in r.headers["content-type"]


async def test_gateway_openapi_documents_the_scoring_responses(platform):
    # api-contract: every response documented (with Chinese field names) in the merged OpenAPI
    async with platform.client() as c:
        doc = (await c.get("/openapi.json")).json()
    paths, schemas = doc["paths"], doc["components"]["schemas"]
    ref = "#/components/schemas/scoring."
    for path, method, model in (
        ("/api/v1/assessments/year/{year}", "get", "YearResultOut"),
        ("/api/v1/assessments/{month}/run", "post", "AssessmentRunOut"),
        ("/api/v1/assessments/{month}", "get", "AssessmentOut"),
        ("/api/v1/assessments/{month}/publish", "post", "AssessmentOut"),
        ("/api/v1/units/{unit_id}/notices", "get", "UnitNotices"),
    ):
        responses = paths[path][method]["responses"]
        assert responses["200"]["content"]["application/json"]["schema"] == {"$ref": ref + model}
        assert responses["422"]["content"]["application/problem+json"]["schema"] == {
            "$ref": ref + "ScoringProblem"
        }
    publish = paths["/api/v1/assessments/{month}/publish"]["post"]["responses"]
    assert "assessment.open_objections" in publish["409"]["description"]
    for ext in ("xlsx", "docx"):
        ok200 = paths[f"/api/v1/bulletins/{{month}}.{ext}"]["get"]["responses"]["200"]
        assert len(ok200["content"]) == 1 and "月度通报" in ok200["description"]
    # every property of every scoring schema carries a (Chinese) description
    for name, schema in schemas.items():
        if name.startswith("scoring.") and not name.endswith(("ValidationError",)):
            for field, prop in (schema.get("properties") or {}).items():
                assert prop.get("description"), f"{name}.{field}"
