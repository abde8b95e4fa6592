"""Monthly progress (policy R6): one report per month, corrections as versions, cumulative rules,
photos, missing-report flags, and the progress event."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import select

from services.registry.models import MissingReport, pipeline
from services.registry.progress import missing_months
from services.registry.rules import flag_missing_reports
from shared import clock
from shared.db import job_session

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def rep(month: str, inv: str, cum: str, pct: str = "10", **kw) -> dict:
    return {"month": month, "investment_month": inv, "cumulative_investment": cum, "progress_pct": pct, **kw}


async def test_monthly_reports_and_cumulative_rules(platform, make_project, uniq):
    # policy R6: cumulative never falls, adds up month to month, stays within the total
    p = await make_project(
        uniq,
        user="chengguan",
        total_investment="1000",
        libraries=[{"library": "annual", "kind": "new", "since": "2025-01-01"}],
    )
    url = f"/api/v1/projects/{p['id']}/progress"
    async with await platform.as_user("chengguan") as c:
        r = await c.post(url, json=rep("2023-03", "100", "100", "5", milestone="场平完成"))
        assert r.status_code == 201, r.text
        assert r.json()["version"] == 1 and r.json()["cumulative_investment"] == "100.0000"
        r = await c.post(url, json=rep("2023-03", "100", "100"))
        assert r.status_code == 409 and r.json()["code"] == "progress.duplicate_month"
        r = await c.post(url, json=rep("2023-04", "0", "90"))
        assert r.status_code == 422 and r.json()["code"] == "progress.cumulative_decreased"
        assert r.json()["fields"][0]["field"] == "cumulative_investment"
        r = await c.post(url, json=rep("2023-04", "50", "200"))
        assert r.status_code == 422 and r.json()["code"] == "progress.cumulative_mismatch"
        r = await c.post(url, json=rep("2023-04", "1000", "1100"))
        assert r.status_code == 422 and r.json()["code"] == "progress.exceeds_total"
        r = await c.post(url, json=rep("2023-04", "1000", "1100", "20", exceeds_total_confirmed=True))
        assert r.status_code == 201 and r.json()["exceeds_total"] is True
        r = await c.post(url, json=rep("2023-05", "1e3", "2100"))
        assert r.status_code == 422
        r = await c.get(f"/api/v1/projects/{p['id']}")
        assert r.json()["latest_progress"]["month"] == "2023-04"


async def test_correction_is_a_new_audited_version(platform, make_project, uniq):
    # policy R6: a correction is a new version; the old one stays, audited with its reason
    p = await make_project(uniq, user="chengguan", total_investment="1000")
    url = f"/api/v1/projects/{p['id']}/progress"
    async with await platform.as_user("chengguan") as c:
        assert (await c.post(url, json=rep("2023-03", "100", "100"))).status_code == 201
        r = await c.post(
            f"{url}/2023-03/corrections",
            json={
                "investment_month": "120",
                "cumulative_investment": "120",
                "progress_pct": "12",
                "reason": "统计口径更正",
            },
        )
        assert r.status_code == 201, r.text
        assert r.json()["version"] == 2 and r.json()["correction_reason"] == "统计口径更正"
        r = await c.get(url)
        versions = [(i["month"], i["version"], i["current"]) for i in r.json()["items"]]
        assert versions == [("2023-03", 2, True), ("2023-03", 1, False)]
    async with job_session() as s:
        history = await pipeline.history(s, "project", p["id"])
    corr = [h for h in history if h["action"] == "progress_correct"]
    assert corr and corr[0]["reason"] == "统计口径更正"
    assert corr[0]["before"]["cumulative_investment"] == "100.0000"


async def test_photos_hash_type_and_size(platform, make_project, uniq):
    # policy R6, R7: photos stored with their SHA-256; type checked by content
    p = await make_project(uniq, user="chengguan", total_investment="1000")
    base = f"/api/v1/projects/{p['id']}/progress"
    async with await platform.as_user("chengguan") as c:
        r = await c.post(f"{base}/2023-03/photos", files={"file": ("a.png", PNG, "image/png")})
        assert r.status_code == 422 and r.json()["code"] == "photo.no_report"
        assert (await c.post(base, json=rep("2023-03", "100", "100"))).status_code == 201
        r = await c.post(
            f"{base}/2023-03/photos", files={"file": ("fake.png", b"MZ not an image", "image/png")}
        )
        assert r.status_code == 422 and r.json()["code"] == "photo.type_refused"
        r = await c.post(f"{base}/2023-03/photos", files={"file": ("site.png", PNG, "image/png")})
        assert r.status_code == 201, r.text
        photo = r.json()
        import hashlib

        assert photo["sha256"] == hashlib.sha256(PNG).hexdigest() and photo["size"] == len(PNG)
        r = await c.get(f"/api/v1/files/{photo['id']}")
        assert r.status_code == 200 and r.content == PNG
    async with await platform.as_user("donghe") as c:
        assert (await c.get(f"/api/v1/files/{photo['id']}")).status_code == 404


async def test_missing_report_flagged_after_deadline(platform, make_project, uniq):
    # policy R6: every month in a library without its report after the deadline (the 10th of
    # the next month) is flagged — January's on 2024-02-11, February's on 2024-03-11
    late = await make_project(uniq, libraries=[{"library": "reserve", "since": "2024-01-15"}])
    done = await make_project(uniq[::-1], libraries=[{"library": "reserve", "since": "2024-01-15"}])
    async with await platform.as_user("zdb") as c:
        for month in ("2024-01", "2024-02"):
            r = await c.post(f"/api/v1/projects/{done['id']}/progress", json=rep(month, "0", "0", "0"))
            assert r.status_code == 201
    ids = [late["id"], done["id"]]

    async def flagged() -> list:
        async with job_session() as s:
            rows = (
                await s.scalars(
                    select(MissingReport)
                    .where(MissingReport.project_id.in_(ids))
                    .order_by(MissingReport.month)
                )
            ).all()
        return [(str(r.project_id), r.month) for r in rows]

    async with job_session() as s:  # the job never ran in February: January still caught
        await flag_missing_reports(s, date(2024, 3, 10))  # February's deadline day itself
    assert await flagged() == [(late["id"], "2024-01")]
    async with job_session() as s:
        await flag_missing_reports(s, date(2024, 3, 11))
    async with job_session() as s:
        await flag_missing_reports(s, date(2024, 3, 12))  # idempotent
    assert await flagged() == [(late["id"], "2024-01"), (late["id"], "2024-02")]
    async with job_session() as s:  # on read, as of a date
        assert await missing_months(s, uuid.UUID(late["id"]), date(2024, 3, 12)) == ["2024-01", "2024-02"]
        assert await missing_months(s, uuid.UUID(done["id"]), date(2024, 3, 12)) == []
    async with await platform.as_user("zdb") as c:
        r = await c.post(f"/api/v1/projects/{late['id']}/progress", json=rep("2024-02", "0", "0", "0"))
        assert r.status_code == 201 and r.json()["on_time"] is False
    async with job_session() as s:
        assert await missing_months(s, uuid.UUID(late["id"]), date(2024, 3, 12)) == ["2024-01"]
        # the report resolves its own month's open flag, and only that one
        flags = (
            await s.execute(
                select(MissingReport.month, MissingReport.resolved_on)
                .where(MissingReport.project_id == uuid.UUID(late["id"]))
                .order_by(MissingReport.month)
            )
        ).all()
        assert [(m, on is not None) for m, on in flags] == [("2024-01", False), ("2024-02", True)]


async def test_back_dated_project_shows_every_missing_month_on_read(platform, make_project, uniq):
    # policy R6: a project put into the annual library five months back and never reported
    # shows each closed month on read, with no job run. Months are derived from the clock:
    # month M is missing once today is past the 10th of M + 1.
    today = clock.today()
    first = today.replace(day=1)
    months = []
    for _ in range(5):
        first = (first - timedelta(days=1)).replace(day=1)
        months.insert(0, first)
    expected = []
    for m in months:
        due = (m.replace(day=28) + timedelta(days=4)).replace(day=10)  # the 10th of M + 1
        if today > due:
            expected.append(m.strftime("%Y-%m"))
    assert len(expected) >= 3  # four or five closed months, whichever day the suite runs
    p = await make_project(
        uniq, libraries=[{"library": "annual", "kind": "new", "since": months[0].isoformat()}]
    )
    async with await platform.as_user("zdb") as c:
        r = await c.get(f"/api/v1/projects/{p['id']}/progress")
        assert r.json()["missing_months"] == expected


async def test_progress_event_reaches_the_outbox(platform, make_project, uniq):
    # policy R6: project.progress_reported with the contract's keys
    p = await make_project(uniq, total_investment="1000")
    async with await platform.as_user("zdb") as c:
        r = await c.post(f"/api/v1/projects/{p['id']}/progress", json=rep("2023-06", "10", "10", "1"))
        assert r.status_code == 201
    async with job_session() as s:
        t = pipeline.tables.outbox
        rows = (await s.execute(select(t.c.type, t.c.payload).where(t.c.key == p["id"]))).all()
    event = next(r.payload for r in rows if r.type == "project.progress_reported")
    assert {
        "project_id",
        "project_code",
        "unit_id",
        "month",
        "investment_month",
        "cumulative_investment",
        "progress_pct",
        "reported_at",
        "on_time",
        "version",
    } <= set(event)
    assert event["month"] == "2023-06" and event["cumulative_investment"] == "10.0000"
