"""The monthly report's two-statement write (issue 15): the project locked, one report per
month under concurrency, R11 targets met, the R6 flag resolved, the project's version bumped
as before — on the real database, through the gateway."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select, text

from services.registry.models import MissingReport, ProgressReport, Project, pipeline
from shared.db import job_session


def rep(month: str, inv: str, cum: str, pct: str) -> dict:
    return {"month": month, "investment_month": inv, "cumulative_investment": cum, "progress_pct": pct}


async def _reports_audits_events(project_id: str) -> tuple[int, int, int]:
    pid = uuid.UUID(project_id)
    audit, outbox = pipeline.tables.audit, pipeline.tables.outbox
    async with job_session() as s:
        reports = await s.scalar(
            select(func.count()).select_from(ProgressReport).where(ProgressReport.project_id == pid)
        )
        audits = await s.scalar(
            select(func.count())
            .select_from(audit)
            .where(audit.c.entity_id == project_id, audit.c.action == "progress_report")
        )
        events = await s.scalar(
            select(func.count())
            .select_from(outbox)
            .where(outbox.c.key == project_id, outbox.c.type == "project.progress_reported")
        )
    return reports, audits, events


async def test_two_reports_of_one_month_at_once_one_is_taken(platform, make_project, uniq):
    # policy R6: one report per month — of two sent together exactly one is taken (201) and
    # the other refused (409 progress.duplicate_month); one row, one audit row, one event
    p = await make_project(uniq, user="chengguan", total_investment="1000")
    url = f"/api/v1/projects/{p['id']}/progress"
    async with await platform.as_user("chengguan") as a, await platform.as_user("chengguan") as b:
        answers = await asyncio.gather(
            a.post(url, json=rep("2023-03", "100", "100", "5")),
            b.post(url, json=rep("2023-03", "120", "120", "6")),
        )
    assert sorted(r.status_code for r in answers) == [201, 409]
    taken = next(r for r in answers if r.status_code == 201).json()
    refused = next(r for r in answers if r.status_code == 409).json()
    assert refused["code"] == "progress.duplicate_month" and refused["report_id"] == taken["id"]
    assert await _reports_audits_events(p["id"]) == (1, 1, 1)


async def _until_waiting_for_a_lock() -> None:
    """Until the report's LOAD waits for a lock (its text's start: the view keeps 1 kB)."""
    for _ in range(1000):
        async with job_session() as s:
            waiting = await s.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND query LIKE '%prev.id AS prev_id%'"
                )
            )
        if waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the report never waited for the project's lock")


async def test_report_that_waited_for_the_lock_sees_the_report_made_meanwhile(platform, make_project, uniq):
    # policy R6: one report per month — a report whose project was locked by another writer
    # that reported the same month meanwhile is refused (409 progress.duplicate_month naming
    # that report), although its first read of the month began before that report existed
    p = await make_project(uniq, user="chengguan", total_investment="1000")
    pid = uuid.UUID(p["id"])
    other = uuid.uuid4()
    async with await platform.as_user("chengguan") as c:
        async with job_session() as blocker:
            await blocker.execute(select(Project.id).where(Project.id == pid).with_for_update())
            blocker.add(
                ProgressReport(
                    id=other,
                    project_id=pid,
                    month="2023-03",
                    version=1,
                    current=True,
                    investment_month=Decimal(100),
                    cumulative_investment=Decimal(100),
                    exceeds_total=False,
                    progress_pct=Decimal(5),
                    reporter="user:chengguan",
                    on_time=True,
                )
            )
            await blocker.flush()
            pending = asyncio.create_task(
                c.post(f"/api/v1/projects/{pid}/progress", json=rep("2023-03", "1", "1", "1"))
            )
            await _until_waiting_for_a_lock()
        r = await pending
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "progress.duplicate_month" and r.json()["report_id"] == str(other)
    assert (await _reports_audits_events(p["id"]))[:2] == (1, 0)


async def test_report_meets_the_progress_targets_it_reaches(platform, make_project, uniq):
    # policy R11: a progress target is met on the last day of the month whose report reaches
    # its threshold — 40% and 60% targets, July at 55% meets the 40% one on 2023-07-31 (July
    # has 31 days); the 60% one stays open until the correction of August to 62% (2023-08-31)
    p = await make_project(
        uniq,
        total_investment="1000",
        targets=[
            {"name": "完成40%", "kind": "progress", "due_on": "2023-12-31", "threshold_pct": "40"},
            {"name": "完成60%", "kind": "progress", "due_on": "2023-12-31", "threshold_pct": "60"},
        ],
    )
    url = f"/api/v1/projects/{p['id']}"
    async with await platform.as_user("zdb") as c:
        assert (await c.post(f"{url}/progress", json=rep("2023-07", "550", "550", "55"))).status_code == 201
        met = {t["name"]: t["met_on"] for t in (await c.get(url)).json()["targets"]}
        assert met == {"完成40%": "2023-07-31", "完成60%": None}
        assert (await c.post(f"{url}/progress", json=rep("2023-08", "10", "560", "58"))).status_code == 201
        r = await c.post(
            f"{url}/progress/2023-08/corrections",
            json={
                "investment_month": "10",
                "cumulative_investment": "560",
                "progress_pct": "62",
                "reason": "复核",
            },
        )
        assert r.status_code == 201, r.text
        met = {t["name"]: t["met_on"] for t in (await c.get(url)).json()["targets"]}
    assert met == {"完成40%": "2023-07-31", "完成60%": "2023-08-31"}


async def test_report_resolves_its_months_missing_flag(platform, make_project, uniq, clock_at):
    # policy R6: the report of a month flagged missing resolves that flag on the day it comes
    # (2024-03-12, the clock's day), and no other month's
    clock_at(date(2024, 3, 12))
    p = await make_project(uniq, libraries=[{"library": "reserve", "since": "2024-01-15"}])
    pid = uuid.UUID(p["id"])
    async with job_session() as s:
        for month in ("2024-01", "2024-02"):
            s.add(MissingReport(project_id=pid, month=month, flagged_on=date(2024, 3, 11)))
    async with await platform.as_user("zdb") as c:
        r = await c.post(f"/api/v1/projects/{pid}/progress", json=rep("2024-02", "0", "0", "0"))
        assert r.status_code == 201 and r.json()["on_time"] is False  # due 2024-03-10
    async with job_session() as s:
        flags = (
            await s.execute(
                select(MissingReport.month, MissingReport.resolved_on)
                .where(MissingReport.project_id == pid)
                .order_by(MissingReport.month)
            )
        ).all()
    assert [tuple(f) for f in flags] == [("2024-01", None), ("2024-02", date(2024, 3, 12))]


async def test_latest_report_changes_the_projects_version_and_etag(platform, make_project, uniq):
    # architecture: optimistic concurrency — a report of the latest month updates the project
    # (its latest figures), so its version and ETag move on and an edit with the old If-Match
    # is refused (412); a back-dated month leaves the project, and so its version, as it was
    p = await make_project(uniq, user="chengguan", total_investment="1000")
    url = f"/api/v1/projects/{p['id']}"
    async with await platform.as_user("chengguan") as c:
        assert (await c.get(url)).headers["etag"] == '"1"'
        assert (await c.post(f"{url}/progress", json=rep("2023-05", "100", "100", "10"))).status_code == 201
        r = await c.get(url)
        assert r.headers["etag"] == '"2"' and r.json()["version"] == 2
        assert r.json()["latest_progress"]["month"] == "2023-05"
        assert (await c.post(f"{url}/progress", json=rep("2023-03", "40", "40", "4"))).status_code == 201
        assert (await c.get(url)).headers["etag"] == '"2"'
        r = await c.patch(url, json={"name": "改名后的项目"}, headers={"If-Match": '"1"'})
        assert r.status_code == 412 and r.json()["code"] == "project.stale"
        r = await c.patch(url, json={"name": "改名后的项目"}, headers={"If-Match": '"2"'})
        assert r.status_code == 200 and r.headers["etag"] == '"3"'
