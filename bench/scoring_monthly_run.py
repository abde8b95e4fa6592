"""A monthly assessment run for 2,000 units over 200k projects and 100k problems (target ≤ 10 s).

    .venv/bin/python -m bench.scoring_monthly_run [--units 2000] [--projects 200000]
        [--problems 100000] [--assignments 2000]

Creates its own database (kpp_bench_scoring_*), applies the scoring migrations, bulk-loads
facts with generate_series (as the consumers would have recorded them from events:
projects, six months of progress reports, approval cases, problems, overdue matters,
assignment letters of which about half are overdue), then times, for June 2025:
the first run (review + notices/summons + SQL aggregation + scoring + store), an
idempotent re-run, publishing, and a re-run of the published month (reproduction).
Prints figures; asserts no time. Drops the database at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time

import asyncpg
from aiohttp import web

from bench.harness import scratch_database

MONTH = "2025-06"

LOAD = [
    (
        "project facts",
        """
    INSERT INTO scoring.project_facts (project_id, project_code, unit_id, category, total_investment,
        created_event_id, name, stage, entered_on, reserve_since, planned_start, actual_start,
        completed_on, version)
    SELECT md5('p' || g)::uuid, lpad(g::text, 24, '0'), 'u' || lpad((g % $1)::text, 4, '0'),
        (ARRAY['industrial','infrastructure','livelihood'])[1 + g % 3], (g % 9000 + 100)::numeric,
        md5('e' || g)::uuid, 'P' || g, 'started', DATE '2024-06-01' + (g % 400),
        CASE WHEN g % 4 = 0 THEN DATE '2025-01-01' + (g % 180) END,
        DATE '2025-01-01' + (g % 300),
        CASE WHEN g % 3 <> 0 THEN DATE '2025-01-03' + (g % 300) END,
        CASE WHEN g % 17 = 0 THEN DATE '2025-02-01' + (g % 200) END, 1
    FROM generate_series(1, $2) g""",
    ),
    (
        "progress facts (6 months)",
        """
    INSERT INTO scoring.progress_facts (project_id, month, unit_id, reported, on_time, investment_month,
        cumulative_investment)
    SELECT md5('p' || g)::uuid, '2025-0' || m, 'u' || lpad((g % $1)::text, 4, '0'), g % 11 <> 0,
        g % 7 <> 0, CASE WHEN g % 11 <> 0 THEN (g % 500)::numeric + 0.5 ELSE 0 END, (g % 500) * m
    FROM generate_series(1, $2) g, generate_series(1, 6) m""",
    ),
    (
        "approval facts",
        """
    INSERT INTO scoring.approval_facts (case_id, project_id, unit_id, kind, opened_on, completed_on,
        on_time, rejected, agency_unit_ids)
    SELECT md5('c' || g)::uuid, md5('p' || g)::uuid, 'u' || lpad((g % $1)::text, 4, '0'),
        'low_risk_small', DATE '2025-01-01' + (g % 150), DATE '2025-01-10' + (g % 170), g % 5 <> 0, false,
        ARRAY['u' || lpad(($1 - 1 - g % ($1 / 3))::text, 4, '0'),
              'u' || lpad(($1 - 1 - (g / 7) % ($1 / 3))::text, 4, '0')]
    FROM generate_series(1, $2 / 4) g""",
    ),
    (
        "issue facts",
        """
    INSERT INTO scoring.issue_facts (issue_id, project_id, unit_id, kind, source, step, deadline,
        overdue, redo_count, satisfied, closed_on, closed_on_time, last_event_at)
    SELECT md5('i' || g)::uuid, md5('p' || (g * 2))::uuid, 'u' || lpad((g % $1)::text, 4, '0'), 'land',
        'report', CASE WHEN g % 3 = 0 THEN 'assigned' ELSE 'closed' END, DATE '2025-01-15' + (g % 170),
        g % 9 = 0, 0, CASE WHEN g % 3 <> 0 THEN g % 8 <> 0 END,
        CASE WHEN g % 3 <> 0 THEN DATE '2025-01-10' + (g % 175) END,
        CASE WHEN g % 3 <> 0 THEN g % 9 <> 0 END, now()
    FROM generate_series(1, $3) g""",
    ),
    (
        "overdue matters",
        """
    INSERT INTO scoring.matter_facts (kind, ref, unit_id, month, on_date, overdue)
    SELECT 'issue.overdue', 'm' || g, 'u' || lpad((g % $1)::text, 4, '0'),
        to_char(DATE '2025-01-01' + (g % 180), 'YYYY-MM'), DATE '2025-01-01' + (g % 180), true
    FROM generate_series(1, $3 / 3) g""",
    ),
    (
        "assignment letters",
        """
    INSERT INTO scoring.assignments (id, task, unit_id, issued_on, deadline, source, status,
        completed_on, created_by, version)
    SELECT md5('a' || g)::uuid, '交办任务' || g, 'u' || lpad((g % $1)::text, 4, '0'),
        DATE '2025-04-01', DATE '2025-05-15' + (g % 60), 'leaders_meeting',
        CASE WHEN g % 2 = 0 THEN 'accepted' ELSE 'open' END,
        CASE WHEN g % 2 = 0 THEN DATE '2025-05-10' END, 'bench', 1
    FROM generate_series(1, $4) g""",
    ),
]


async def load(url: str, units: int, projects: int, problems: int, assignments: int) -> None:
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        for label, sql in LOAD:
            started = time.perf_counter()
            for n, value in enumerate((units, projects, problems, assignments), start=1):
                sql = sql.replace(f"${n}", str(int(value)))  # sizes only: plain integers
            await conn.execute(sql)
            print(f"  loaded {label:<28} {time.perf_counter() - started:6.2f} s")
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


def directory(n: int) -> dict[str, dict[str, str]]:
    """Two thirds townships, one third departments, with the directory's fields."""
    out = {}
    for i in range(n):
        uid = f"u{i:04d}"
        kind = "township" if i < n - n // 3 else "department"
        out[uid] = {
            "id": uid,
            "name": f"单位{i:04d}",
            "kind": kind,
            "leader_name": f"负责人{i}",
            "leader_title": "镇长" if kind == "township" else "局长",
            "principal_leader": "王志刚",
            "deputy_heads": [f"副县长{i % 7}"],
        }
    return out


async def measure(units: dict[str, dict[str, str]]) -> None:
    from services.scoring.assessment import publish, run_month
    from shared.db import dispose_engine, job_session
    from shared.identity import Principal, Role

    office = Principal(subject="user:bench", role=Role.key_office, unit_id="office-zdb")
    steps = [
        ("first run (review, notices, aggregate, score, store)", "run"),
        ("idempotent re-run (draft, nothing changed)", "run"),
        ("publish", "publish"),
        ("re-run of the published month (reproduce)", "run"),
    ]
    for label, what in steps:
        started = time.perf_counter()
        async with job_session() as session:
            if what == "publish":
                await publish(session, principal=office, month=MONTH)
                info = {}
            else:
                run, info = await run_month(session, principal=office, month=MONTH, units=units)
        took = time.perf_counter() - started
        extra = ", ".join(f"{k}={v}" for k, v in info.items())
        print(f"  {label:<56} {took:6.2f} s   {extra}")
    async with job_session() as session:
        from services.scoring.facts import collect_inputs

        for i in range(3):
            started = time.perf_counter()
            await collect_inputs(session, month=MONTH, units=units)
            print(f"  SQL aggregation only, pass {i + 1:<34} {time.perf_counter() - started:6.2f} s")
    await dispose_engine()
    from shared.http import service_client

    await service_client.close()


async def calendar_stand_in() -> tuple[web.AppRunner, int]:
    """The approvals service's ``/internal/calendar`` on loopback, answering the built-in
    official years: scoring never counts working days without the calendar's owner (it
    refuses with calendar.unavailable), and the bench runs scoring alone."""
    from shared.calendar import official_years

    body = {"years": [y.to_dict() for y in official_years()], "revision": 1}

    async def calendar(request: web.Request) -> web.Response:
        return web.json_response(body, dumps=lambda v: json.dumps(v, default=str))

    app = web.Application()
    app.router.add_get("/internal/calendar", calendar)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]


async def main(n_units: int, projects: int, problems: int, assignments: int) -> None:
    runner, port = await calendar_stand_in()
    async with scratch_database("scoring", services=("scoring",)) as url:
        os.environ.update(
            KPP_DATABASE_URL=url,
            KPP_ENV="test",
            KPP_LOG_LEVEL="ERROR",
            KPP_LOG_JSON="false",
            KPP_APPROVALS_URL=f"http://127.0.0.1:{port}",
        )
        print(
            f"monthly run {MONTH}: {n_units} units, {projects} projects, {problems} problems, "
            f"{assignments} assignment letters"
        )
        await load(url, n_units, projects, problems, assignments)
        await measure(directory(n_units))
    await runner.cleanup()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=2000)
    ap.add_argument("--projects", type=int, default=200_000)
    ap.add_argument("--problems", type=int, default=100_000)
    ap.add_argument("--assignments", type=int, default=2000)
    a = ap.parse_args()
    asyncio.run(main(a.units, a.projects, a.problems, a.assignments))
