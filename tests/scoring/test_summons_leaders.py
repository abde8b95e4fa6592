"""R28: the summoning leaders are names the key office keeps per unit in the directory — the
deputy county head in charge for the summons after two notices, the county's principal
leader after three — and each summons stores the name of the day (no fixed text)."""

from __future__ import annotations

UNIT = "town-beiling"
DEMO = {"principal_leader": "王志刚", "deputy_heads": ["赵国庆"]}  # gateway seed


async def _put(c, body: dict, unit: str = UNIT):
    return await c.put(f"/api/v1/units/{unit}/leaders", json=body)


async def test_office_keeps_a_units_leaders_audited(platform):
    # policy R28: the key office maintains the principal leader and the deputy heads in charge
    async with await platform.as_user("zdb") as c:
        try:
            r = await _put(
                c,
                {
                    "principal_leader": "李卫东",
                    "deputy_heads": ["钱晓燕", "赵国庆"],
                    "reason": "县政府领导分工调整",
                },
            )
            assert r.status_code == 200, r.text
            assert r.json()["principal_leader"] == "李卫东"
            assert r.json()["deputy_heads"] == ["钱晓燕", "赵国庆"]
            r = await c.get(f"/api/v1/units/{UNIT}")
            assert r.json()["deputy_heads"] == ["钱晓燕", "赵国庆"]
            r = await c.get(f"/api/v1/units/{UNIT}/history")
            assert r.status_code == 200, r.text
            last = r.json()[-1]
            assert last["action"] == "leaders.set" and last["reason"] == "县政府领导分工调整"
            assert last["before"] == DEMO
            assert last["after"] == {"principal_leader": "李卫东", "deputy_heads": ["钱晓燕", "赵国庆"]}
            # bad input: no deputy, the same deputy twice, a control character, unknown unit
            r = await _put(c, {"principal_leader": "李卫东", "deputy_heads": []})
            assert r.status_code == 422
            r = await _put(c, {"principal_leader": "李卫东", "deputy_heads": ["钱晓燕", "钱晓燕"]})
            assert r.status_code == 422 and r.json()["code"] == "unit.deputy_heads_duplicate"
            r = await _put(c, {"principal_leader": "李卫\u202e东", "deputy_heads": ["钱晓燕"]})
            assert r.status_code == 422
            r = await _put(c, DEMO, unit="town-nowhere")
            assert r.status_code == 404 and r.json()["code"] == "unit.not_found"
        finally:
            assert (await _put(c, DEMO)).status_code == 200
    async with await platform.as_user("chengguan") as c:
        r = await _put(c, {"principal_leader": "马文斌", "deputy_heads": ["马文斌"]}, unit="town-chengguan")
        assert r.status_code == 403
        assert (await c.get(f"/api/v1/units/{UNIT}/history")).status_code == 403


async def test_summons_name_the_leaders_of_the_day(platform, uniq):
    # policy R28: 北岭乡, one task unfinished through January–March 2013 (counted per unit):
    # February's second notice → the first deputy head in charge; March's third → the
    # principal leader, whom the office changed in between: each summons keeps its own name
    async with await platform.as_user("zdb") as c:
        try:
            r = await _put(c, {"principal_leader": "李卫东", "deputy_heads": ["钱晓燕", "赵国庆"]})
            assert r.status_code == 200, r.text
            r = await c.post(
                "/api/v1/assignments",
                json={
                    "task": f"北岭乡光伏项目林地报批{uniq}",
                    "unit_id": UNIT,
                    "issued_on": "2013-01-05",
                    "deadline": "2013-01-20",
                    "source": "leaders_meeting",
                    "source_ref": f"纪要{uniq}",
                },
            )
            assert r.status_code == 201, r.text
            aid = r.json()["id"]
            for month in ("2013-01", "2013-02"):
                assert (await c.post(f"/api/v1/assessments/{month}/run")).status_code == 200
            r = await _put(
                c, {"principal_leader": "周海峰", "deputy_heads": ["钱晓燕"], "reason": "县长任职变动"}
            )
            assert r.status_code == 200, r.text
            assert (await c.post("/api/v1/assessments/2013-03/run")).status_code == 200
            r = await c.get(f"/api/v1/units/{UNIT}/notices")
            assert r.status_code == 200, r.text
        finally:
            assert (await _put(c, DEMO)).status_code == 200
    summons = {s["level"]: s for s in r.json()["summons"] if s["assignment_id"] == aid}
    assert summons["deputy"]["month"] == "2013-02" and summons["principal"]["month"] == "2013-03"
    assert summons["deputy"]["summoner_name"] == "钱晓燕"
    assert summons["deputy"]["summoner"] == "分管县领导 钱晓燕"
    assert summons["principal"]["summoner_name"] == "周海峰"
    assert summons["principal"]["summoner"] == "县主要领导 周海峰"
    assert "北岭乡" in summons["principal"]["summoned"] and "林建军" in summons["principal"]["summoned"]
