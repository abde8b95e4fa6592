"""Registry benchmarks over 200 k projects: a filtered list page (library + level + unit + tag)
p50/p99 at the service, and the plan summary (R4, R5, R9, R11).

    .venv/bin/python -m bench.registry_library [N]

A scratch database (dropped afterwards), bulk-loaded with generate_series; the registry
API runs in its own uvicorn process; requests carry an identity token, as from the gateway.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time

import aiohttp
import asyncpg

from bench.harness import bench_env, free_port, scratch_database, service_process
from shared.identity import IDENTITY_HEADER, Principal, Role, issue_identity_token

UNITS = [
    "town-chengguan",
    "town-donghe",
    "town-xishan",
    "town-nanchuan",
    "town-beiling",
    "town-qingshi",
    "dept-fgj",
    "dept-zrzy",
    "dept-sthj",
    "dept-zjj",
    "dept-xzsp",
    "dept-czj",
    "dept-jtj",
    "dept-slj",
    "office-zdb",
]

LOAD_PROJECTS = """
INSERT INTO registry.projects (id, project_code, name, unit_id, category, total_investment,
  government_investment, scale_band, lib_tags, stage, stage_dates, actual_start, tags,
  major_industrial, version, created_at, updated_at)
SELECT md5('p' || g)::uuid, '2023-140521-44-01-' || lpad(g::text, 6, '0'), '基准项目' || g,
  ($1::text[])[1 + g % 15], (ARRAY['industrial','infrastructure','livelihood'])[1 + g % 3],
  t.total, g % 4 = 0,
  CASE WHEN t.total < 3000 THEN 'small' WHEN t.total <= 5000 THEN 'medium' ELSE 'large' END,
  CASE WHEN g % 10 < 6 THEN ARRAY['reserve']
       WHEN g % 10 < 8 THEN ARRAY['annual', 'annual:new']
       ELSE ARRAY['annual', 'annual:continued', 'key',
                  'key:' || (ARRAY['county','county','county','municipal','provincial'])[1 + g / 10 % 5]]
  END,
  s.stage, jsonb_build_object(s.stage, '2023-02-01'),
  CASE WHEN s.stage NOT IN ('signed', 'landed') THEN date '2023-01-01' + g % 300 END,
  ARRAY['tag' || (g % 40), 'zone' || (g % 13)], g % 50 = 0, 1,
  now() - (g || ' seconds')::interval, now()
FROM generate_series(1, $2) AS g
CROSS JOIN LATERAL (SELECT (500 + (g * 7919) % 80000)::numeric(18,4) AS total) t
CROSS JOIN LATERAL (SELECT (ARRAY['signed','landed','started','under_construction','completed',
  'effective'])[1 + g % 6] AS stage) s
"""

LOAD_MEMBERSHIPS = """
INSERT INTO registry.memberships (id, project_id, library, kind, level, since, until)
SELECT gen_random_uuid(), p.id, split_part(tag, ':', 1),
  CASE WHEN split_part(tag, ':', 1) = 'annual' THEN split_part(tag, ':', 2)
       WHEN split_part(tag, ':', 1) = 'key' THEN 'continued' END,
  CASE WHEN split_part(tag, ':', 1) = 'key' THEN
       (SELECT split_part(t2, ':', 2) FROM unnest(p.lib_tags) t2 WHERE t2 LIKE 'key:%') END,
  date '2023-01-01', NULL
FROM registry.projects p, unnest(p.lib_tags) AS tag
WHERE tag IN ('reserve', 'annual:new', 'annual:continued', 'key')
"""

LOAD_PROGRESS = """
INSERT INTO registry.progress_reports (id, project_id, month, version, current, investment_month,
  cumulative_investment, exceeds_total, progress_pct, reporter, on_time, reported_at)
SELECT gen_random_uuid(), p.id, m.month, 1, true, 10, 10 * m.n, false,
  least(100, (abs(hashtext(p.id::text)) % 60) + 5 * m.n), 'bench', true, now()
FROM registry.projects p
CROSS JOIN (VALUES ('2023-06', 1), ('2023-07', 2), ('2023-08', 3)) AS m(month, n)
WHERE 'annual' = ANY(p.lib_tags)
"""

# what the service keeps on the project when a report comes in (policy R6)
LAST_REPORT = """
UPDATE registry.projects p SET last_report_month = r.month, last_progress_pct = r.progress_pct,
  last_cumulative_investment = r.cumulative_investment
FROM registry.progress_reports r WHERE r.project_id = p.id AND r.month = '2023-08' AND r.current
"""


async def load(url: str, n: int) -> None:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        t0 = time.perf_counter()
        await conn.execute(LOAD_PROJECTS, UNITS, n)
        await conn.execute(LOAD_MEMBERSHIPS)
        await conn.execute(LOAD_PROGRESS)
        await conn.execute(LAST_REPORT)
        await conn.execute("ANALYZE")
        counts = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM registry.projects) p, "
            "(SELECT count(*) FROM registry.memberships) m, "
            "(SELECT count(*) FROM registry.progress_reports) r"
        )
        print(
            f"loaded {counts['p']} projects, {counts['m']} memberships, "
            f"{counts['r']} progress reports in {time.perf_counter() - t0:.1f} s"
        )
    finally:
        await conn.close()


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


async def measure(base: str) -> None:
    token = issue_identity_token(
        Principal(subject="bench", role=Role.key_office, unit_id="office-zdb"), ttl_s=900
    )
    headers = {IDENTITY_HEADER: token}
    rnd = random.Random(7)
    async with aiohttp.ClientSession(headers=headers) as s:

        async def get(path: str, params: dict) -> tuple[float, dict]:
            t0 = time.perf_counter()
            async with s.get(base + path, params=params) as r:
                body = await r.json()
                assert r.status == 200, body
            return (time.perf_counter() - t0) * 1000, body

        for _ in range(20):  # warm-up
            await get("/api/v1/projects", {"library": "key", "page_size": 20})
        times, totals = [], []
        for _ in range(500):
            params = {
                "library": "key",
                "level": rnd.choice(["county", "municipal", "provincial"]),
                "unit": rnd.choice(UNITS),
                "tag": f"tag{rnd.randrange(40)}",
                "page": rnd.choice([1, 1, 1, 2]),
                "page_size": 20,
            }
            ms, body = await get("/api/v1/projects", params)
            times.append(ms)
            totals.append(body["total"])
        print(
            f"list library+level+unit+tag (500 sequential requests): p50 {pct(times, 0.5):.1f} ms, "
            f"p99 {pct(times, 0.99):.1f} ms, max {max(times):.1f} ms; "
            f"mean matches {statistics.mean(totals):.1f}"
        )
        times = []
        for _ in range(200):
            params = {
                "library": rnd.choice(["reserve", "annual", "key"]),
                "unit": rnd.choice(UNITS),
                "page": rnd.randrange(1, 50),
                "page_size": 20,
            }
            times.append((await get("/api/v1/projects", params))[0])
        print(
            f"list library+unit, deep pages (200 requests): p50 {pct(times, 0.5):.1f} ms, "
            f"p99 {pct(times, 0.99):.1f} ms"
        )
        times = []
        for _ in range(5):
            ms, body = await get("/api/v1/plans/2023/summary", {"limit": 200})
            times.append(ms)
        print(
            f"plan summary 2023 ({body['key']['count']} key, {body['annual']['count']} annual, "
            f"{body['reserve']['count']} reserve, {body['completion_targets_total']} R9 items): "
            f"best {min(times):.0f} ms, median {statistics.median(times):.0f} ms, "
            f"max {max(times):.0f} ms"
        )


async def main(n: int) -> None:
    async with scratch_database("registry") as url:
        await load(url, n)
        port = free_port()
        with service_process("registry", port, bench_env(url)) as base:
            await measure(base)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000))
