"""Approval clocks at a glance for the overview (issue 17): cases by agency and standing,
and the low-risk chains' counted days against 20 (policy R16, R17)."""

from __future__ import annotations

from datetime import date

from services.approvals.models import ApprovalCase
from services.approvals.overview import standing
from shared import clock


def evening(day: date):
    """18:00 in Shanghai: after the hall's 10:00 events of the day."""
    return clock.at_business_time(day, 18)


async def test_low_risk_chain_counts_only_agency_days(hall, clock_at, platform):
    # policy R16: 2022 (no other test opens cases in it). 项目赋码备案 applied Tue 03-01,
    # accepted Wed 03-02, decided Fri 03-04: counted (03-01, 03-04] = 03-02, 03-03, 03-04
    # → 3 working days of the chain's 20; the applicant has not applied for the permit yet.
    case = await hall.open_case()  # today: the project code's year must be a valid one
    cid = case["id"]
    clock_at(evening(date(2022, 3, 1)))
    await hall.event(cid, "submitted", "2022-03-01")
    clock_at(evening(date(2022, 3, 2)))
    await hall.event(cid, "accepted", "2022-03-02")
    clock_at(evening(date(2022, 3, 4)))
    await hall.event(cid, "step_completed", "2022-03-04", step_code="project_filing")
    clock_at(evening(date(2022, 3, 7)))
    view = await hall.get(cid)
    async with await platform.as_user("zdb") as c:
        r = await c.get("/api/v1/approval-cases/overview", params={"year": 2022})
    assert r.status_code == 200, r.text
    out = r.json()
    chain = next(x for x in out["low_risk_chains"] if x["case_id"] == cid)
    assert (chain["counted_days"], chain["limit_days"], chain["within_limit"]) == (3, 20, True)
    assert out["low_risk_limit_days"] == 20
    # policy R17: a running case within its limit counts as on time, for each of its agencies
    agencies = {s["agency_unit_id"] for s in view["steps"]}
    rows = {a["agency_unit_id"]: a for a in out["by_agency"]}
    assert agencies and all(rows[a]["on_time"] >= 1 for a in agencies)
    assert out["by_standing"]["on_time"] >= 1 and out["total"] >= 1
    # a township outside the case (the project is 城关镇's, no agency is 东河镇) sees none of it
    async with await platform.as_user("donghe") as c:
        r = await c.get("/api/v1/approval-cases/overview", params={"year": 2022})
    assert r.status_code == 200
    assert all(x["case_id"] != cid for x in r.json()["low_risk_chains"])


def test_standing_counts_a_finished_case_as_it_finished():
    # policy R17: done by the due date → on time; done after it → overdue (even when done);
    # a running case keeps its warning / overdue state; a refusal is counted apart
    def case(state, due=None, done=None):
        return ApprovalCase(state=state, due_date=due, completed_on=done)

    assert standing(case("done", date(2022, 3, 8), date(2022, 3, 8))) == "on_time"
    assert standing(case("done", date(2022, 3, 8), date(2022, 3, 9))) == "overdue"
    assert standing(case("warning")) == "warning"
    assert standing(case("overdue")) == "overdue"
    assert standing(case("paused")) == "on_time"
    assert standing(case("rejected")) == "rejected"
