"""R27 starts and completions, R30 signings and production, counted from the dates the
registry recorded — however the project arrived (registered, imported or moved on)."""

from __future__ import annotations

from tests.scoring.conftest import emit, project_payload

# a month no other test writes facts into
MONTH = "2012-05"


async def test_completions_signings_and_production_come_from_recorded_dates(platform, uniq):
    # policy R27: imported as 竣工 on Sun 2012-05-20 (the registry, given no start date,
    # took that day as its start): a completion of May, not a start of May
    imported = project_payload(
        uniq,
        "town-nanchuan",
        stage="completed",
        actual_start="2012-05-20",
        stage_dates={"completed": "2012-05-20"},
        created_at="2012-05-21T02:00:00+00:00",
    )
    # policy R30 二比招商、晒签约: registered at 签约 on 2012-05-08, 3000万 → one signing
    signed = project_payload(
        uniq,
        "town-nanchuan",
        stage="signed",
        total_investment="3000.0000",
        stage_dates={"signed": "2012-05-08"},
        created_at="2012-05-09T02:00:00+00:00",
    )
    # registered at 落地 in May with no 签约 date on record: not a signing of May
    landed = project_payload(
        uniq,
        "town-nanchuan",
        stage="landed",
        stage_dates={"landed": "2012-05-10"},
        created_at="2012-05-10T02:00:00+00:00",
    )
    # R30 四比投产: one project reaches 达效 (in production) on 5/25; another only 竣工 on 5/26
    producing = project_payload(
        uniq,
        "town-nanchuan",
        stage="completed",
        actual_start="2011-03-01",
        stage_dates={"started": "2011-03-01", "completed": "2012-01-15"},
        created_at="2011-02-01T02:00:00+00:00",
    )
    finished = project_payload(
        uniq,
        "town-nanchuan",
        stage="under_construction",
        actual_start="2011-04-01",
        stage_dates={"started": "2011-04-01", "under_construction": "2011-04-20"},
        created_at="2011-02-01T02:00:00+00:00",
    )
    for p in (imported, signed, landed, producing, finished):
        await emit("registry", "project.created", p)
    await emit(
        "registry",
        "project.stage_changed",
        producing
        | {
            "stage": "effective",
            "version": 2,
            "from_stage": "completed",
            "to_stage": "effective",
            "on": "2012-05-25",
            "stage_dates": producing["stage_dates"] | {"effective": "2012-05-25"},
        },
    )
    await emit(
        "registry",
        "project.stage_changed",
        finished
        | {
            "stage": "completed",
            "version": 2,
            "from_stage": "under_construction",
            "to_stage": "completed",
            "on": "2012-05-26",
            "stage_dates": finished["stage_dates"] | {"completed": "2012-05-26"},
        },
    )
    await platform.drain()

    async with await platform.as_user("zdb") as c:
        r = await c.post(f"/api/v1/assessments/{MONTH}/run")
        assert r.status_code == 200, r.text
        body = r.json()
    nc = {u["unit_id"]: u for u in body["units"]}["town-nanchuan"]["figures"]
    assert nc["starts"] == 0  # the imported project's inferred start is not a start of May
    assert nc["completions"] == 2  # imported (5/20) and finished (5/26)
    assert nc["signed_count"] == 1 and nc["signed_investment"] == "3000.0000"
    assert nc["in_production"] == 1  # producing (达效 5/25), not the merely completed ones
    comps = body["comparisons"]
    # policy R30: the policy's own five pairs and wording
    assert [comps[k]["name"] for k in comps] == [
        "一比谋划、晒前期",
        "二比招商、晒签约",
        "三比开工、晒进度",
        "四比投产、晒成效",
        "五比服务、晒质量",
    ]
    assert comps["production"]["primary"] == "in_production"
    row = next(x for x in comps["production"]["township"] if x["unit_id"] == "town-nanchuan")
    assert row["value"] == "1"
