"""The approvals responses as documented (api-contract: every field in the gateway's OpenAPI,
with its Chinese name): each endpoint called once through the gateway and its real body
validated against the response model (``extra="forbid"``: a field the model lacks fails)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from services.approvals.schemas_out import (
    AddWorkingDaysOut,
    CalendarChangeOut,
    CalendarYearOut,
    CaseListOut,
    CaseSummary,
    CaseView,
    EventBatchReply,
    EventReply,
    KindList,
    KindOut,
    Problem,
)

YEAR = 2190  # far from every deadline the other tests count with


def check(model: type[BaseModel], r, status: int = 200) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    model.model_validate(body)
    return body


def problem(r, status: int, code: str) -> dict[str, Any]:
    assert r.headers["content-type"].startswith("application/problem+json"), r.text
    body = check(Problem, r, status)
    assert body["code"] == code
    return body


async def test_calendar_bodies_match_their_models(platform):
    # policy R15: year, correction, reset and add-working-days as documented
    async with await platform.as_user("admin") as c:
        y = check(CalendarYearOut, await c.get("/api/v1/calendar/2026"))
        assert y["stored"] is True and y["revision"] is not None
        y = check(CalendarYearOut, await c.get(f"/api/v1/calendar/{YEAR}"))
        assert y["stored"] is False and "revision" not in y
        try:
            r = await c.put(
                f"/api/v1/calendar/{YEAR}",
                json={
                    "off_days": [f"{YEAR}-01-01"],
                    "working_days": [],
                    "official": False,
                    "source": "接口文档测试数据",
                    "reason": "测试",
                },
            )
            y = check(CalendarChangeOut, r)
            assert y["stored"] is True and set(y["recomputed"]) == {"checked_cases", "changed_cases"}
        finally:
            y = check(CalendarChangeOut, await c.delete(f"/api/v1/calendar/{YEAR}"))
            assert y["stored"] is False
        check(
            AddWorkingDaysOut,
            await c.get("/api/v1/calendar/add-working-days", params={"start": "2026-09-30", "days": 1}),
        )
        problem(await c.get("/api/v1/calendar/1800"), 422, "request.invalid")
        r = await c.put(
            f"/api/v1/calendar/{YEAR}",
            json={"off_days": [f"{YEAR}-02-03"], "working_days": [f"{YEAR}-02-03"], "source": "x"},
        )
        body = problem(r, 422, "calendar.day_both_off_and_working")
        assert body["fields"][0]["field"] == "working_days"


async def test_kind_bodies_match_their_models(platform, uniq):
    # policy R16, R17: kinds listed, read, created, adjusted as documented
    code = f"doc_kind_{uniq}"
    async with await platform.as_user("admin") as c:
        kinds = check(KindList, await c.get("/api/v1/approval-kinds"))
        assert any(k["code"] == "low_risk_small" for k in kinds["items"])
        r = await c.post(
            "/api/v1/approval-kinds",
            json={
                "code": code,
                "name": "文档测试类型",
                "steps": [{"code": "review", "name": "审查", "limit_days": 5, "agency_unit_id": "dept-fgj"}],
            },
        )
        assert check(KindOut, r, 201)["max_total_days"] is None
        check(KindOut, await c.get(f"/api/v1/approval-kinds/{code}"))
        r = await c.put(f"/api/v1/approval-kinds/{code}", json={"warn_days_left": 2})
        assert check(KindOut, r)["version"] == 2
        problem(await c.get(f"/api/v1/approval-kinds/none_{uniq}"), 404, "approval_kind.not_found")
        problem(
            await c.post(
                "/api/v1/approval-kinds",
                json={
                    "code": code,
                    "name": "重复",
                    "steps": [
                        {"code": "review", "name": "审查", "limit_days": 5, "agency_unit_id": "dept-fgj"}
                    ],
                },
            ),
            409,
            "approval_kind.duplicate",
        )


async def test_case_bodies_match_their_models(platform, hall):
    # policy R16, R17: a case opened, read (the clock), listed and fast-tracked as documented
    # (R20: the fast track is for a project in a library)
    project = await hall.project(libraries=[{"library": "reserve", "since": "2026-03-02"}])
    async with await platform.as_user("xzsp") as c:
        r = await c.post(
            "/api/v1/approval-cases", json={"project_id": project["id"], "kind": "low_risk_small"}
        )
        cid = check(CaseSummary, r, 201)["id"]
    async with await platform.as_user("zdb") as c:
        r = await c.post(
            f"/api/v1/approval-cases/{cid}/fast-track",
            json={
                "fast_track": True,
                "assistant": {"name": "李帮办", "phone": "0350-1234567"},
                "reason": "重点项目",
            },
        )
        assert check(CaseSummary, r)["assistant"]["unit_id"] is None
    await hall.event(cid, "submitted", "2026-11-02", hour=9)
    await hall.event(cid, "accepted", "2026-11-02")
    await hall.event(cid, "paused", "2026-11-03", reason="expert_review", evidence_ref="专家评审通知 1 号")
    view = CaseView.model_validate(await hall.get(cid))
    assert view.pauses[0].reason == "expert_review" and view.history
    async with await platform.as_user("zdb") as c:
        listed = check(
            CaseListOut, await c.get("/api/v1/approval-cases", params={"project_id": project["id"]})
        )
        assert [i["id"] for i in listed["items"]] == [cid]
        problem(await c.get(f"/api/v1/approval-cases/{project['id']}"), 404, "approval_case.not_found")
        problem(await c.get("/api/v1/approval-cases", params={"state": "lost"}), 422, "request.invalid")


async def test_event_bodies_match_their_models(platform, hall, uniq):
    # policy R18: an event (201), its replay (200) and an impossible event (409) as documented
    cid = (await hall.open_case())["id"]
    body = {"event_id": f"doc-{uniq}", "type": "accepted", "occurred_at": "2026-11-02T09:30:00+08:00"}
    async with await platform.as_user("xzsp") as c:
        first = check(EventReply, await c.post(f"/api/v1/approval-cases/{cid}/events", json=body), 201)
        again = check(EventReply, await c.post(f"/api/v1/approval-cases/{cid}/events", json=body))
        assert again == first
        r = await c.post(
            f"/api/v1/approval-cases/{cid}/events",
            json={"event_id": f"doc-{uniq}-2", "type": "resumed", "occurred_at": "2026-11-03T09:30:00+08:00"},
        )
        p = problem(r, 409, "approval.event_not_allowed")
        assert p["event_type"] == "resumed" and p["allowed_events"]
        # the batch: a replay, a new event, an impossible one — each as the one-event answer
        batch = [
            body,
            body
            | {"event_id": f"doc-{uniq}-3", "type": "submitted", "occurred_at": "2026-11-02T08:30:00+08:00"},
            {"event_id": f"doc-{uniq}-2", "type": "resumed", "occurred_at": "2026-11-03T09:30:00+08:00"},
        ]
        reply = check(
            EventBatchReply,
            await c.post(
                "/api/v1/approval-cases/events", json={"events": [e | {"case_id": cid} for e in batch]}
            ),
        )
        assert [i["status"] for i in reply["results"]] == [200, 201, 409]
        assert reply["results"][0]["result"] == first
        assert reply["results"][2]["problem"] == p | {"instance": f"/api/v1/approval-cases/{cid}/events"}


OPERATIONS = {
    ("/api/v1/calendar/{year}", "get"): ("200", "CalendarYearOut"),
    ("/api/v1/calendar/{year}", "put"): ("200", "CalendarChangeOut"),
    ("/api/v1/calendar/{year}", "delete"): ("200", "CalendarChangeOut"),
    ("/api/v1/calendar/add-working-days", "get"): ("200", "AddWorkingDaysOut"),
    ("/api/v1/approval-kinds", "get"): ("200", "KindList"),
    ("/api/v1/approval-kinds", "post"): ("201", "KindOut"),
    ("/api/v1/approval-kinds/{code}", "get"): ("200", "KindOut"),
    ("/api/v1/approval-kinds/{code}", "put"): ("200", "KindOut"),
    ("/api/v1/approval-cases", "post"): ("201", "CaseSummary"),
    ("/api/v1/approval-cases", "get"): ("200", "CaseListOut"),
    ("/api/v1/approval-cases/{case_id}", "get"): ("200", "CaseView"),
    ("/api/v1/approval-cases/{case_id}/events", "post"): ("201", "EventReply"),
    ("/api/v1/approval-cases/events", "post"): ("200", "EventBatchReply"),
    ("/api/v1/approval-cases/{case_id}/fast-track", "post"): ("200", "CaseSummary"),
}


def _undescribed(schemas: dict[str, Any], name: str) -> list[str]:
    props = schemas[name].get("properties", {})
    return [f"{name}.{p}" for p, s in props.items() if not s.get("description")]


async def test_gateway_openapi_documents_every_approvals_response(platform):
    # policy R15–R18 (api-contract): each operation names its reply model and its problems;
    # every field of those models carries a Chinese description
    async with platform.client() as c:
        doc = (await c.get("/openapi.json")).json()
    schemas = doc["components"]["schemas"]
    missing: list[str] = []
    for (path, method), (status, model) in OPERATIONS.items():
        responses = doc["paths"][path][method]["responses"]
        schema = responses[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": f"#/components/schemas/approvals.{model}"}, (path, method)
        assert "application/problem+json" in responses["401"]["content"], (path, method)
    assert (
        "application/problem+json"
        in doc["paths"]["/api/v1/approval-cases/{case_id}/events"]["post"]["responses"]["409"]["content"]
    )
    for name in schemas:
        if name.startswith("approvals.") and name not in (
            "approvals.HTTPValidationError",
            "approvals.ValidationError",
        ):
            missing += _undescribed(schemas, name)
    assert missing == []
