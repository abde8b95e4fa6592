"""Shared set-up of the issues benchmarks: a scratch database with the issues schema only,
100 k problems bulk-loaded in one INSERT … SELECT over generate_series."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator

import asyncpg

from bench.harness import scratch_database

UNITS = [
    "dept-fgj",
    "dept-zrzy",
    "dept-sthj",
    "dept-zjj",
    "dept-xzsp",
    "dept-czj",
    "dept-jtj",
    "dept-slj",
    "town-chengguan",
    "town-donghe",
    "town-xishan",
    "town-nanchuan",
    "town-beiling",
    "town-qingshi",
]
KINDS = [
    "eia",
    "land",
    "forest_land",
    "water",
    "energy_saving",
    "safety_review",
    "funds",
    "utilities",
    "other",
]

# step mix: 10 % discovered, 10 % analysed, 10 % decomposed, 40 % assigned (deadlines from
# 60 days ago to 60 days ahead: about half overdue), 10 % awaiting a visit, 20 % closed
LOAD_SQL = """
INSERT INTO issues.issues (
  id, project_id, project_code, project_name, project_unit_id, enterprise_code, kind,
  description, source, reporter, reporter_name, reporter_role, attachments, step, finding,
  within_authority, responsible_unit_id, responsible_leader, responsible_person, solution,
  time_limit_days, assisting_unit_ids, assigned_on, deadline, deadline_provisional, overdue,
  close_supervision, escalation_level, redo_count, satisfied, version, created_at, updated_at)
SELECT
  gen_random_uuid(), p.project_id, p.code, '基准项目' || (g % 400), ($1::text[])[1 + g % 14],
  NULL, ($2::text[])[1 + g % 9], '基准问题描述：要素保障不到位，影响项目推进 #' || g, 'supervision',
  'user:zdb', '重点办 张明', 'key_office', '[]'::jsonb, s.step,
  CASE WHEN s.step <> 'discovered' THEN '研判意见' END, true,
  CASE WHEN s.step NOT IN ('discovered') THEN ($1::text[])[1 + (g * 7) % 14] END,
  CASE WHEN s.step NOT IN ('discovered', 'analysed') THEN '责任领导' || (g % 50) END,
  CASE WHEN s.step NOT IN ('discovered', 'analysed') THEN '责任人' || (g % 300) END,
  CASE WHEN s.step NOT IN ('discovered', 'analysed') THEN '解决措施：专班推进，限期办结' END,
  CASE WHEN s.step NOT IN ('discovered', 'analysed') THEN 5 + g % 20 END, '{}',
  CASE WHEN s.step IN ('assigned', 'closure_requested', 'closed')
       THEN current_date - 90 + g % 90 END,
  CASE WHEN s.step IN ('assigned', 'closure_requested', 'closed')
       THEN current_date - 60 + g % 121 END,
  false, s.step = 'assigned' AND g % 121 < 60, s.step = 'assigned' AND g % 121 < 60,
  0, g % 3 / 2, CASE WHEN s.step = 'closed' THEN true END, 1,
  now() - (g || ' minutes')::interval, now()
FROM generate_series(1, $3) AS g
CROSS JOIN LATERAL (SELECT CASE
    WHEN g % 10 = 0 THEN 'discovered' WHEN g % 10 = 1 THEN 'analysed'
    WHEN g % 10 = 2 THEN 'decomposed' WHEN g % 10 IN (3, 4, 5, 6) THEN 'assigned'
    WHEN g % 10 = 7 THEN 'closure_requested' ELSE 'closed' END AS step) s
CROSS JOIN LATERAL (SELECT
    md5('p' || (g % 2000))::uuid AS project_id,
    '2024-140000-44-01-' || lpad((g % 2000)::text, 6, '0') AS code) p
"""


def asyncpg_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


@contextlib.asynccontextmanager
async def issues_database(n: int) -> AsyncIterator[str]:
    """A scratch database with the issues migrations and ``n`` problems; dropped after."""
    async with scratch_database("issues", services=("issues",)) as url:
        conn = await asyncpg.connect(asyncpg_url(url))
        started = time.perf_counter()
        await conn.execute(LOAD_SQL, UNITS, KINDS, n)
        await conn.execute("VACUUM ANALYZE issues.issues")
        print(f"loaded {n:,} problems in {time.perf_counter() - started:.1f} s")
        await conn.close()
        yield url
