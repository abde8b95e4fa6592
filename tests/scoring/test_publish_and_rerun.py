"""R29 draft → objections → published, idempotent runs, and exact re-runs of a past month."""

from __future__ import annotations

from io import BytesIO

from openpyxl import load_workbook

from tests.scoring.conftest import emit, emit_progress, outbox_events, project_payload

# a month no other test (nor the registry demo seed, 2023) writes facts into
MONTH = "2018-05"


async def _report(project: dict, month: str, amount: str, *, on_time: bool = True) -> None:
    await emit_progress(project, month, amount, on_time=on_time, version=2, reported_day=28)


async def test_rerun_of_published_month_reproduces_it_exactly(platform, uniq):
    # policy R29: a run stores its inputs and rubric version; re-running gives the same result
    a = project_payload(uniq, "town-chengguan")
    b = project_payload(uniq, "town-donghe")
    for p in (a, b):
        await emit("registry", "project.created", p)
    await _report(a, MONTH, "1200")
    await _report(b, MONTH, "300", on_time=False)
    await platform.drain()
    async with await platform.as_user("zdb") as c:
        first = (await c.post(f"/api/v1/assessments/{MONTH}/run")).json()
        assert first["status"] == "draft" and first["action"] in ("created", "updated")
        # idempotent: nothing changed, nothing changes
        again = (await c.post(f"/api/v1/assessments/{MONTH}/run")).json()
        assert again["action"] == "unchanged" and again["revision"] == first["revision"]
        assert again["units"] == first["units"]

        # a late fact while still a draft is taken in by the next run
        c2 = project_payload(uniq, "town-chengguan")
        await emit("registry", "project.created", c2)
        await _report(c2, MONTH, "800")
        await platform.drain()
        updated = (await c.post(f"/api/v1/assessments/{MONTH}/run")).json()
        assert updated["action"] == "updated" and updated["revision"] == first["revision"] + 1
        cg = next(u for u in updated["units"] if u["unit_id"] == "town-chengguan")
        assert cg["figures"]["investment_completed"] == "2000.0000"

        r = await c.post(f"/api/v1/assessments/{MONTH}/publish")
        assert r.status_code == 200, r.text
        published = r.json()
        assert published["status"] == "published"
        assert len(await outbox_events("assessment.published", month=MONTH)) == 1

        # more facts for the month arrive after publication ...
        await _report(b, MONTH, "99999", on_time=True)
        await platform.drain()
        # ... and a re-run reproduces the published result exactly, from the stored inputs
        rerun = (await c.post(f"/api/v1/assessments/{MONTH}/run")).json()
        assert rerun["action"] == "reproduced" and rerun["reproduced"] is True
        for key in ("units", "comparisons", "rubric_versions", "inputs_digest", "revision"):
            assert rerun[key] == published[key], key
        stored = (await c.get(f"/api/v1/assessments/{MONTH}")).json()
        assert stored["units"] == published["units"]

        r = await c.post(f"/api/v1/assessments/{MONTH}/publish")
        assert r.status_code == 409 and r.json()["code"] == "assessment.already_published"

        # the monthly bulletin: rankings, comparisons, notices, summons, charts (issue 17)
        r = await c.get(f"/api/v1/bulletins/{MONTH}.xlsx")
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
        wb = load_workbook(BytesIO(r.content))
        assert wb.sheetnames == ["综合排名", "五晒五比", "通报", "约谈", "图表"]
        names = [row[2] for row in wb["综合排名"].iter_rows(min_row=3, values_only=True)]
        assert "城关镇" in names and "县住房和城乡建设局" in names


async def test_units_object_while_draft_and_office_publishes(platform, uniq):
    # policy R29: a unit objects to its figures while the month is a draft; publishing with an
    # open objection is refused; only the key office publishes
    month = "2018-07"
    async with await platform.as_user("zdb") as zdb, await platform.as_user("donghe") as donghe:
        assert (await zdb.post(f"/api/v1/assessments/{month}/run")).status_code == 200
        r = await donghe.post(
            f"/api/v1/assessments/{month}/objections",
            json={"unit_id": "town-chengguan", "reason": "替别人提异议"},
        )
        assert (r.status_code, r.json()["code"]) == (403, "auth.unit_forbidden")
        r = await donghe.post(
            f"/api/v1/assessments/{month}/objections",
            json={"item": "investment_completed", "reason": f"漏计项目投资{uniq}"},
        )
        assert r.status_code == 201, r.text
        objection = r.json()
        assert objection["unit_id"] == "town-donghe" and objection["status"] == "open"
        r = await donghe.post(f"/api/v1/assessments/{month}/publish")
        assert (r.status_code, r.json()["code"]) == (403, "auth.office_only")
        r = await zdb.post(f"/api/v1/assessments/{month}/publish")
        assert r.status_code == 409 and r.json()["code"] == "assessment.open_objections"
        assert objection["id"] in r.json()["objection_ids"]
        r = await zdb.post(
            f"/api/v1/assessments/{month}/objections/{objection['id']}/resolve",
            json={"accepted": False, "resolution": "经核实该项目当月未报送进度"},
        )
        assert r.status_code == 200 and r.json()["status"] == "rejected"
        r = await zdb.post(f"/api/v1/assessments/{month}/publish")
        assert r.status_code == 200 and r.json()["status"] == "published"
        r = await donghe.post(f"/api/v1/assessments/{month}/objections", json={"reason": "发布后异议"})
        assert r.status_code == 409 and r.json()["code"] == "assessment.not_draft"
        r = await donghe.get(f"/api/v1/assessments/{month}/objections")
        assert [o["id"] for o in r.json()] == [objection["id"]]


async def test_monthly_cron_is_unique_and_its_run_idempotent(platform):
    # policy R27: the month is assessed on the 1st by one worker, however many replicas run
    from services.scoring.jobs import monthly_assessment
    from services.scoring.worker import WorkerSettings

    # long cron jobs run on the cron queue, away from event delivery (issue 11)
    crons = WorkerSettings.CronWorkerSettings.cron_jobs
    (job,) = [c for c in crons if c.name == "scoring_monthly_assessment"]
    assert job.unique and job.day == 1
    first = await monthly_assessment({}, month="2017-11")
    second = await monthly_assessment({}, month="2017-11")
    assert first["status"] == "draft" and second["action"] == "unchanged"
    assert second["revision"] == first["revision"]
