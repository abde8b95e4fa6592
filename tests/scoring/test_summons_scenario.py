"""R28 一通报、两约谈: an unfinished assignment through three monthly reviews."""

from __future__ import annotations

from shared.clock import today
from tests.scoring.conftest import outbox_events

MONTHS = ("2024-01", "2024-02", "2024-03")


async def test_three_months_notice_then_deputy_then_principal_summons(platform, uniq):
    # policy R28: notice in month 1; notice + deputy-head summons in month 2;
    # notice + principal-leader summons in month 3 — counted per assignment
    async with await platform.as_user("zdb") as c:
        r = await c.post(
            "/api/v1/assignments",
            json={
                "task": f"西山乡征地拆迁清零{uniq}",
                "unit_id": "town-xishan",
                "issued_on": "2024-01-05",
                "deadline": "2024-01-20",
                "source": "leaders_meeting",
                "source_ref": f"调度会纪要{uniq}",
            },
        )
        assert r.status_code == 201, r.text
        aid = r.json()["id"]
        assert r.json()["status"] == "open"
        levels = []
        for month in MONTHS:
            r = await c.post(f"/api/v1/assessments/{month}/run")
            assert r.status_code == 200, r.text
            mine = [n for n in r.json()["notices"] if n["assignment_id"] == aid]
            assert len(mine) == 1 and mine[0]["month"] == month
            levels.append((mine[0]["ordinal"], mine[0]["level"], mine[0]["reason"]))
        assert levels == [
            (1, "notice", "unfinished"),
            (2, "deputy_summons", "unfinished"),
            (3, "principal_summons", "unfinished"),
        ]

        # running a month again issues nothing twice (one notice per assignment and month)
        r = await c.post("/api/v1/assessments/2024-02/run")
        assert r.status_code == 200 and r.json()["notices_issued"] == 0
        assert len([n for n in r.json()["notices"] if n["assignment_id"] == aid]) == 1

        r = await c.get("/api/v1/units/town-xishan/notices")
        assert r.status_code == 200, r.text
        body = r.json()
        mine = [n for n in body["notices"] if n["assignment_id"] == aid]
        assert [n["level"] for n in mine] == ["notice", "deputy_summons", "principal_summons"]
        assert mine[0]["summons"] is None
        deputy, principal = mine[1]["summons"], mine[2]["summons"]
        # the deputy county head in charge of 西山乡 in the directory is 孙丽萍
        assert deputy["level"] == "deputy" and "孙丽萍" in deputy["summoner"]
        assert "西山乡" in deputy["summoned"] and "何秀英" in deputy["summoned"]
        assert principal["level"] == "principal" and "主要领导" in principal["summoner"]
        assert deputy["status"] == "scheduled" and deputy["due_by"] > deputy["issued_on"]

        # summons are events as well as records
        assert len(await outbox_events("notice.issued", assignment_id=aid)) == 3
        summons_events = await outbox_events("summons.issued", assignment_id=aid)
        assert sorted(e["level"] for e in summons_events) == ["deputy", "principal"]

        # the outcome of a summons is recorded once
        r = await c.post(
            f"/api/v1/summons/{deputy['id']}/outcome",
            json={"held_on": today().isoformat(), "outcome": "责令一周内完成清零并书面报告"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "held"
        r = await c.post(
            f"/api/v1/summons/{deputy['id']}/outcome",
            json={"held_on": today().isoformat(), "outcome": "重复记录"},
        )
        assert r.status_code == 409 and r.json()["code"] == "summons.already_held"

    # the unit itself sees its notices; another township does not, nor records summons
    async with await platform.as_user("chengguan") as c:
        r = await c.get("/api/v1/units/town-xishan/notices")
        assert (r.status_code, r.json()["code"]) == (403, "auth.unit_forbidden")
        r = await c.post(
            f"/api/v1/summons/{principal['id']}/outcome",
            json={"held_on": today().isoformat(), "outcome": "越权记录"},
        )
        assert (r.status_code, r.json()["code"]) == (403, "auth.role_forbidden")
    # the county leader holding the summons records its outcome
    async with await platform.as_user("leader") as c:
        r = await c.post(
            f"/api/v1/summons/{principal['id']}/outcome",
            json={"held_on": today().isoformat(), "outcome": "主要领导约谈，限期整改"},
        )
        assert r.status_code == 200 and r.json()["status"] == "held"


async def test_completed_in_time_gets_no_notice_and_late_completion_still_counts(platform, uniq):
    # policy R28: only assignments unfinished at the month's end past their deadline are noticed
    async with await platform.as_user("zdb") as zdb, await platform.as_user("donghe") as donghe:
        on_time = (
            await zdb.post(
                "/api/v1/assignments",
                json={
                    "task": f"按期办结{uniq}",
                    "unit_id": "town-donghe",
                    "issued_on": "2024-04-01",
                    "deadline": "2024-04-15",
                    "source": "consultation",
                },
            )
        ).json()["id"]
        late = (
            await zdb.post(
                "/api/v1/assignments",
                json={
                    "task": f"逾期办结{uniq}",
                    "unit_id": "town-donghe",
                    "issued_on": "2024-04-01",
                    "deadline": "2024-04-15",
                    "source": "problem",
                },
            )
        ).json()["id"]
        r = await donghe.post(
            f"/api/v1/assignments/{on_time}/complete", json={"completed_on": "2024-04-10", "note": "已完成"}
        )
        assert r.status_code == 200 and r.json()["status"] == "completed"
        r = await donghe.post(f"/api/v1/assignments/{late}/complete", json={"completed_on": "2024-05-10"})
        assert r.status_code == 200
        r = await zdb.post("/api/v1/assessments/2024-04/run")
        ids = {n["assignment_id"] for n in r.json()["notices"]}
        assert late in ids and on_time not in ids
        r = await zdb.post("/api/v1/assessments/2024-05/run")
        ids = {n["assignment_id"] for n in r.json()["notices"]}
        assert late not in ids and on_time not in ids


async def test_badly_done_completion_is_noticed(platform, uniq):
    # policy R28: a task finished badly, as judged by the key office, gets a notice
    async with await platform.as_user("zdb") as zdb, await platform.as_user("fgj") as fgj:
        aid = (
            await zdb.post(
                "/api/v1/assignments",
                json={
                    "task": f"前期手续办理{uniq}",
                    "unit_id": "dept-fgj",
                    "issued_on": "2024-06-03",
                    "deadline": "2024-06-20",
                    "source": "supervision",
                },
            )
        ).json()["id"]
        r = await zdb.post(f"/api/v1/assignments/{aid}/judge", json={"verdict": "accepted"})
        assert r.status_code == 409 and r.json()["code"] == "assignment.not_completed"
        r = await fgj.post(f"/api/v1/assignments/{aid}/complete", json={"completed_on": "2024-06-18"})
        assert r.status_code == 200
        r = await fgj.post(f"/api/v1/assignments/{aid}/judge", json={"verdict": "badly_done"})
        assert (r.status_code, r.json()["code"]) == (403, "auth.office_only")
        r = await zdb.post(f"/api/v1/assignments/{aid}/judge", json={"verdict": "badly_done"})
        assert r.status_code == 422 and r.json()["code"] == "assignment.reason_required"
        r = await zdb.post(
            f"/api/v1/assignments/{aid}/judge",
            json={"verdict": "badly_done", "reason": "材料不全，未实质解决"},
        )
        assert r.status_code == 200 and r.json()["status"] == "badly_done"
        r = await zdb.post("/api/v1/assessments/2024-06/run")
        mine = [n for n in r.json()["notices"] if n["assignment_id"] == aid]
        assert [(n["reason"], n["level"]) for n in mine] == [("badly_done", "notice")]
        # the unit may report it done again; an accepted completion ends the notices
        r = await fgj.post(f"/api/v1/assignments/{aid}/complete", json={"completed_on": "2024-07-05"})
        assert r.status_code == 200 and r.json()["status"] == "completed"
        r = await zdb.post(f"/api/v1/assignments/{aid}/judge", json={"verdict": "accepted"})
        assert r.status_code == 200 and r.json()["status"] == "accepted"
        r = await zdb.post("/api/v1/assessments/2024-07/run")
        assert aid not in {n["assignment_id"] for n in r.json()["notices"]}
        r = await zdb.get(f"/api/v1/assignments/{aid}")
        assert r.json()["status"] == "accepted"
