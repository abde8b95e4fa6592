"""1 M open clocks; the sweep moving the ~1 % that crossed a threshold (target ≤ 1 s).

    .venv/bin/python -m bench.approvals_sweep [--rows 1000000] [--due-every 100]

Bulk-loads cases with generate_series (each with one pending overdue threshold and its
indexed ``next_threshold_at``), then times one ``sweeper.sweep`` (one statement: the locked
index scan, the UPDATE … RETURNING and the outbox + audit INSERT … SELECTs), committed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

from bench.harness import bench_env, scratch_database

LOAD_SQL = """
INSERT INTO approvals.approval_case (
  id, project_id, project_code, unit_id, kind, kind_name, steps, total_limit_days, warn_share,
  warn_days_left, supplement_window_days, agency_unit_ids, project_type, acceptance_mode,
  missing_items, missing_items_overdue, fast_track, phase, state, current_step, due_date,
  due_provisional, thresholds, fired, next_threshold_at, version, created_by, created_at,
  updated_at)
SELECT gen_random_uuid(), gen_random_uuid(), '2026-140000-44-01-' || lpad(i::text, 6, '0'), 'town-chengguan',
  'low_risk_small', '低风险小型项目', '[]'::jsonb, 20, 0.8, 3, 5, ARRAY['dept-fgj'], 'other',
  'standard', '[]'::jsonb, false, false, 'running', 'running', 'project_filing',
  (t.at - interval '1 day')::date, false,
  jsonb_build_array(jsonb_build_object(
     'key', 'chain:overdue', 'type', 'overdue', 'at', to_char(t.at AT TIME ZONE 'UTC',
     'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'), 'ts', extract(epoch FROM t.at)::bigint,
     'step_code', null, 'step_name', '全链条',
     'agency_unit_id', 'dept-fgj', 'due_date', (t.at - interval '1 day')::date,
     'limit_days', 20, 'overdue_since', t.at::date)),
  '[]'::jsonb, t.at, 1, 'bench', now(), now()
FROM generate_series(1, :rows) AS i,
LATERAL (SELECT CASE WHEN i % :every = 0 THEN now() - interval '1 hour'
                     ELSE now() + (1 + i % 500) * interval '1 day' END AS at) AS t
"""


async def main(rows: int, every: int) -> None:
    async with scratch_database("approvals_sweep") as db_url:
        os.environ.update(bench_env(db_url))
        from sqlalchemy import text

        from services.approvals.sweeper import sweep
        from shared.db import dispose_engine, get_engine, job_session

        t0 = time.perf_counter()
        chunk = 250_000
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            async with get_engine().begin() as conn:
                await conn.execute(text(LOAD_SQL.replace(":rows", str(n)).replace(":every", str(every))))
        async with get_engine().connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE approvals.approval_case"))
            due = await conn.scalar(
                text("SELECT count(*) FROM approvals.approval_case WHERE next_threshold_at <= now()")
            )
        print(f"loaded {rows:,} open clocks in {time.perf_counter() - t0:.1f} s; {due:,} past a threshold")
        t0 = time.perf_counter()
        async with job_session() as session:
            counts = await sweep(session)
        elapsed = time.perf_counter() - t0
        print(
            f"sweep: moved {counts['moved']:,} clocks, {counts['events']:,} events "
            f"(+ audit rows) in {elapsed:.3f} s (committed)"
        )
        t0 = time.perf_counter()
        async with job_session() as session:
            again = await sweep(session)
        print(f"second sweep (nothing due): moved {again['moved']} in {time.perf_counter() - t0:.3f} s")
        await dispose_engine()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--due-every", type=int, default=100)
    args = ap.parse_args()
    asyncio.run(main(args.rows, args.due_every))
