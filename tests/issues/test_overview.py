"""The problem loop at a glance for the overview (issue 17): by step, overdue, redo counts
and the enterprises' verdicts, for the problems reported in a year, as each reader may see."""

from __future__ import annotations

from datetime import date

from tests.issues.conftest import act, report, walk_to_assigned

VISIT = {"visitor": "张明", "channel": "phone", "words": "回访记录"}


async def test_overview_counts_steps_overdue_redo_and_visits(platform, project, clock_at):
    # policy R22–R25 in 2021, a year no other test reports problems in. Mon 2021-03-01:
    # A stays discovered; B is assigned with 3 working days (due Thu 03-04); C is assigned,
    # its first close-out visit is dissatisfied (a redo), the second satisfied (closed).
    clock_at(date(2021, 3, 1))
    async with await platform.as_user("zdb") as c:
        await report(c, project["id"])
        b = await report(c, project["id"])
        await walk_to_assigned(c, b["id"], time_limit_days=3)
        ci = (await report(c, project["id"]))["id"]
        await walk_to_assigned(c, ci)
        for satisfied in (False, True):
            r = await act(c, ci, "request_close", {"summary": "已办结"})
            assert r.status_code == 200, r.text
            r = await act(c, ci, "record_visit", VISIT | {"satisfied": satisfied, "visited_on": "2021-03-01"})
            assert r.status_code == 200, r.text
        assert r.json()["step"] == "closed"
        # Wed 2021-03-10: B's deadline (03-04) has passed → overdue, under close supervision
        clock_at(date(2021, 3, 10))
        r = await c.get("/api/v1/issues/overview", params={"year": 2021})
        assert r.status_code == 200, r.text
        out = r.json()
    steps = {s["step"]: s["count"] for s in out["by_step"]}
    assert steps == {
        "discovered": 1,
        "analysed": 0,
        "decomposed": 0,
        "assigned": 1,
        "closure_requested": 0,
        "closed": 1,
    }
    assert (out["total"], out["open"], out["overdue"]) == (3, 2, 1)
    assert (out["redo_total"], out["issues_redone"]) == (1, 1)
    assert out["visits"] == {"satisfied": 1, "dissatisfied": 1}
    assert (out["closed"], out["closed_satisfied"]) == (1, 1)
    assert out["as_of"] == "2021-03-10"
    # a township sees only its own units' problems: 东河镇 none of 城关镇's
    async with await platform.as_user("donghe") as c:
        r = await c.get("/api/v1/issues/overview", params={"year": 2021})
    assert r.status_code == 200 and r.json()["total"] == 0
