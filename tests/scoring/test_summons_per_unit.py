"""R28 一通报、两约谈 counted per unit within the year (the default): two notices of a unit
for unfinished tasks, whichever tasks, bring the deputy head's summons; three the
principal leader's.  Counting per task is a configuration."""

from __future__ import annotations

from typing import Any

from services.scoring.config import scoring_settings


async def _assign(c, uniq: str, task: str, issued_on: str, deadline: str) -> str:
    r = await c.post(
        "/api/v1/assignments",
        json={
            "task": f"{task}{uniq}",
            "unit_id": "town-chengguan",
            "issued_on": issued_on,
            "deadline": deadline,
            "source": "leaders_meeting",
            "source_ref": f"调度会纪要{uniq}",
        },
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def _run(c, month: str, ids: set[str]) -> list[tuple[str, int, str]]:
    r = await c.post(f"/api/v1/assessments/{month}/run")
    assert r.status_code == 200, r.text
    return [
        (n["assignment_id"], n["ordinal"], n["level"])
        for n in r.json()["notices"]
        if n["assignment_id"] in ids
    ]


async def _walk(platform, uniq: str, year: int) -> dict[str, Any]:
    """Task A (deadline 3/10, done 4/5) and task B (deadline 4/15, done 6/1) of 城关镇."""
    async with await platform.as_user("zdb") as c:
        a = await _assign(c, uniq, "城关镇征迁清零", f"{year}-03-01", f"{year}-03-10")
        b = await _assign(c, uniq, "城关镇管网迁改", f"{year}-03-01", f"{year}-04-15")
        ids = {a, b}
        runs = {"03": await _run(c, f"{year}-03", ids)}
        async with await platform.as_user("chengguan") as u:
            r = await u.post(
                f"/api/v1/assignments/{a}/complete", json={"completed_on": f"{year}-04-05", "note": "已清零"}
            )
            assert r.status_code == 200, r.text
        runs["04"] = await _run(c, f"{year}-04", ids)
        runs["05"] = await _run(c, f"{year}-05", ids)
        async with await platform.as_user("chengguan") as u:
            r = await u.post(
                f"/api/v1/assignments/{b}/complete", json={"completed_on": f"{year}-06-01", "note": "已迁改"}
            )
            assert r.status_code == 200, r.text
        r = await c.get("/api/v1/units/town-chengguan/notices")
        assert r.status_code == 200, r.text
        summons = [s for s in r.json()["summons"] if s["assignment_id"] in ids]
    return {"a": a, "b": b, "runs": runs, "summons": summons}


async def test_two_notices_of_a_unit_for_different_tasks_summon_its_head(platform, uniq):
    # policy R28: 城关镇 — March: A unfinished (unit notice 1); April: B unfinished (unit
    # notice 2, A was done 4/5) → deputy head's summons; May: B again (3) → principal's
    w = await _walk(platform, uniq, 2022)
    a, b = w["a"], w["b"]
    assert w["runs"] == {
        "03": [(a, 1, "notice")],
        "04": [(b, 2, "deputy_summons")],
        "05": [(b, 3, "principal_summons")],
    }
    by_level = {s["level"]: s for s in w["summons"]}
    # the deputy county head in charge of 城关镇 in the directory is 孙丽萍; its head 马文斌
    assert "孙丽萍" in by_level["deputy"]["summoner"]
    assert "城关镇" in by_level["deputy"]["summoned"] and "马文斌" in by_level["deputy"]["summoned"]
    assert by_level["principal"]["month"] == "2022-05"


async def test_counting_per_task_is_a_configuration(platform, uniq, monkeypatch):
    # policy R28: KPP_SCORING_SUMMONS_COUNT=task — each task's own notices: B's second
    # notice (May) brings the deputy head; A's and B's first notices nothing
    monkeypatch.setattr(scoring_settings(), "summons_count", "task")
    w = await _walk(platform, uniq, 2021)
    a, b = w["a"], w["b"]
    assert w["runs"] == {"03": [(a, 1, "notice")], "04": [(b, 1, "notice")], "05": [(b, 2, "deputy_summons")]}
    assert [s["level"] for s in w["summons"]] == ["deputy"]
