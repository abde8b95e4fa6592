"""The scoring part of the overview (issue 17): this year's notices and summons by unit
(R28) and the latest published ranking with each unit's change from the month before (R30)."""

from __future__ import annotations

# months no other test (nor the registry demo seed, 2023) runs or writes facts into
APRIL, MAY = "2014-04", "2014-05"


async def test_supervision_by_unit_and_ranking_change(platform, uniq):
    async with await platform.as_user("zdb") as c:
        # policy R28: due 2014-04-15 and still open → noticed in the April run (1st) and the
        # May run (2nd: the unit's second notice of the year → the deputy head's summons)
        r = await c.post(
            "/api/v1/assignments",
            json={
                "task": f"清表交地{uniq}",
                "unit_id": "town-qingshi",
                "issued_on": "2014-03-03",
                "deadline": "2014-04-15",
                "source": "leaders_meeting",
            },
        )
        assert r.status_code == 201, r.text
        letter = r.json()
        for month in (APRIL, MAY):
            assert (await c.post(f"/api/v1/assessments/{month}/run")).status_code == 200
            assert (await c.post(f"/api/v1/assessments/{month}/publish")).status_code == 200
        r = await c.post(
            f"/api/v1/assignments/{letter['id']}/complete", json={"completed_on": "2014-06-02"}
        )  # no later month notices it
        assert r.status_code == 200, r.text
        april = (await c.get(f"/api/v1/assessments/{APRIL}")).json()
        may = (await c.get(f"/api/v1/assessments/{MAY}")).json()
        r = await c.get("/api/v1/bulletins/overview", params={"year": 2014})
        assert r.status_code == 200, r.text
        body = r.json()
        bad = await c.get("/api/v1/bulletins/overview", params={"year": "1999"})
        assert bad.status_code == 422
    rows = {row["unit_id"]: row for row in body["supervision"]}
    assert rows["town-qingshi"] == {
        "unit_id": "town-qingshi",
        "notices": 2,
        "deputy_summons": 1,
        "principal_summons": 0,
        "summons_held": 0,
    }
    ranking = body["ranking"]
    assert (ranking["month"], ranking["previous_month"]) == (MAY, APRIL)
    before = {u["unit_id"]: u["rank"] for u in april["units"]}
    for u in ranking["units"]:
        now = next(x for x in may["units"] if x["unit_id"] == u["unit_id"])
        assert (u["rank"], u["score"], u["previous_rank"]) == (
            now["rank"],
            now["score"],
            before[u["unit_id"]],
        )
        # up is positive: 3rd in April and 1st in May is +2
        assert u["rank_change"] == before[u["unit_id"]] - now["rank"]
    assert {c["key"] for c in ranking["comparisons"]} == set(may["comparisons"])
    # every unit of the published month is there, none twice
    assert sorted(u["unit_id"] for u in ranking["units"]) == sorted(u["unit_id"] for u in may["units"])


async def test_enterprise_does_not_read_the_ranking_overview(platform):
    # rankings are read by government staff, not by enterprises
    async with await platform.as_user("qiye") as c:
        r = await c.get("/api/v1/bulletins/overview", params={"year": 2014})
    assert (r.status_code, r.json()["code"]) == (403, "auth.role_forbidden")
