"""Moving clocks across their warning / overdue / missing-items thresholds (R17, R19).

Two triggers, one code path, both idempotent:
* the sweeper cron (arq ``unique`` cron: one run across worker replicas) takes every case
  with ``next_threshold_at <= now`` (a partial index holds only clocks with a threshold
  ahead), fires what is due once, and moves ``next_threshold_at`` on;
* an exact deferred job per due moment (``clock_due``), scheduled by the cron for the
  moments inside the next ``schedule_horizon_s``; its arq job id
  ``clock:{case}:{moment}`` makes it unique across replicas and re-scheduling a no-op.

The sweep is ONE set-based statement (no rows travel to Python and back): it locks the due
clocks (``FOR UPDATE SKIP LOCKED``: a clock being changed by an event or another sweep is
left alone and caught by the next run), splits their pending thresholds into due / ahead
by the window each carries (``thresholds.py`` defines it; ``split_due`` reads the same
window; tests/approvals/test_threshold_rule.py holds both to the same cases), moves a
running / warning clock up to the worst level fired (a paused or a not yet accepted —
``submitted``, R16 — one to overdue only), updates the cases and inserts the outbox events
(payloads as ``thresholds.payload_of``, contract ``approval.*`` v1 of shared.contracts, checked
by the consumers) and the audit rows (through the one writer, ``pipeline.writer``) in the same
statement, hence the same transaction. A threshold's key in ``fired`` means it never fires twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.approvals.config import approvals_settings
from services.approvals.models import pipeline
from shared import clock
from shared.identity import SYSTEM_PRINCIPAL
from shared.logging import request_id_var

SWEEP_SQL = """
WITH due AS (
    SELECT ctid AS row_id, id, state, thresholds, fired, project_id, project_code, kind,
           unit_id, next_threshold_at
      FROM approvals.approval_case
     WHERE next_threshold_at <= :now {only}
     ORDER BY next_threshold_at
     LIMIT :batch
       FOR UPDATE SKIP LOCKED
), pending AS (            -- thresholds not fired yet, in their (time) order
    -- thresholds.py defines the rule as each threshold's window: ts <= now < until_ts
    SELECT d.id, t.ord, t.th, t.th->>'type' AS type, t.th->>'key' AS key,
           (t.th->>'ts')::float8 <= :cut AS is_due,
           (t.th->>'ts')::float8 <= :cut
               AND (t.th->>'until_ts' IS NULL OR :cut < (t.th->>'until_ts')::float8) AS fires
      FROM due d, jsonb_array_elements(d.thresholds) WITH ORDINALITY AS t(th, ord)
     WHERE NOT d.fired @> jsonb_build_array(t.th->'key')
), fire AS (
    SELECT * FROM pending WHERE fires
), moved AS (
    SELECT d.id, d.row_id, d.state AS before,
           CASE WHEN d.state IN ('running', 'warning', 'submitted')
                     AND bool_or(p.fires AND p.type = 'overdue') THEN 'overdue'
                WHEN d.state = 'running' AND bool_or(p.fires AND p.type = 'warning') THEN 'warning'
                WHEN d.state = 'paused' AND bool_or(p.fires AND p.type = 'overdue') THEN 'overdue'
                ELSE d.state END AS after,
           coalesce(jsonb_agg(p.th->'key' ORDER BY p.ord) FILTER (WHERE p.fires), '[]'::jsonb)
               AS fired_now,
           coalesce(bool_or(p.fires AND p.type = 'missing_items_overdue'), false) AS mio_now,
           coalesce(jsonb_agg(p.th ORDER BY p.ord) FILTER (WHERE NOT p.is_due), '[]'::jsonb)
               AS ahead
      FROM due d LEFT JOIN pending p ON p.id = d.id
     GROUP BY d.id, d.row_id, d.state
), upd AS (
    UPDATE approvals.approval_case AS c
       SET state = m.after, thresholds = m.ahead, fired = c.fired || m.fired_now,
           next_threshold_at = (m.ahead->0->>'at')::timestamptz,
           missing_items_overdue = c.missing_items_overdue OR m.mio_now,
           version = c.version + 1, updated_at = :now
      FROM moved m
     WHERE c.ctid = m.row_id  -- locked above: the row cannot have moved
 RETURNING c.id, m.before, m.after
), fired AS (
    SELECT d.id, d.next_threshold_at AS due_at, d.project_id, d.project_code, d.kind,
           d.unit_id, u.before, u.after, f.ord, f.th, f.type, f.key
      FROM upd u JOIN due d ON d.id = u.id JOIN fire f ON f.id = u.id
), fired_events AS (
    SELECT gen_random_uuid() AS id, 'approval.' || f.type AS type, f.id::text AS key,
           CASE WHEN f.type = 'missing_items_overdue' THEN jsonb_build_object(
                    'event_version', 1, 'case_id', f.id::text,
                    'project_id', f.project_id::text,
                    'project_code', f.project_code, 'kind', f.kind, 'items', f.th->'items',
                    'due_date', f.th->'due_date')
                ELSE jsonb_build_object(
                    'event_version', 1, 'case_id', f.id::text, 'project_id', f.project_id::text,
                    'project_code', f.project_code, 'kind', f.kind, 'unit_id', f.unit_id,
                    'step_code', f.th->'step_code', 'step_name', f.th->'step_name',
                    'agency_unit_id', f.th->'agency_unit_id', 'due_date', f.th->'due_date',
                    'limit_days', f.th->'limit_days')
                  || CASE WHEN f.type = 'warning' THEN jsonb_build_object(
                              'days_left', f.th->'days_left', 'warning_reason', f.th->'reason')
                          ELSE jsonb_build_object('overdue_since', f.th->'overdue_since') END
           END AS payload, CAST(:request_id AS text) AS request_id,
           CAST(:now AS timestamptz) AS created_at, f.due_at, f.id AS case_id, f.ord
      FROM fired f
), fired_audits AS (
    SELECT CAST(:actor AS text) AS actor, CAST(:actor_role AS text) AS actor_role,
           CAST(:actor_unit AS text) AS actor_unit, 'approval_case' AS entity,
           f.id::text AS entity_id, 'clock.' || f.type AS action,
           jsonb_build_object('state', f.before) AS before,
           jsonb_build_object('state', f.after, 'threshold', f.key, 'at', f.th->'at') AS after,
           '时限阈值到达（系统计时）' AS reason, CAST(:request_id AS text) AS request_id,
           CAST(:now AS timestamptz) AS at, f.due_at, f.id AS case_id, f.ord
      FROM fired f
), events AS (
    {events}
    RETURNING 1
), audits AS (
    {audits}
)
SELECT (SELECT count(*) FROM upd) AS moved, (SELECT count(*) FROM events) AS events
"""
_WRITES = {
    "events": pipeline.writer.events_from("fired_events", order_by="due_at, case_id, ord"),
    "audits": pipeline.writer.audits_from("fired_audits", order_by="due_at, case_id, ord"),
}
SWEEP = text(SWEEP_SQL.format(only="", **_WRITES))
SWEEP_ONE = text(SWEEP_SQL.format(only="AND id = :case_id", **_WRITES))
# jsonb_array_elements is estimated at 100 rows a clock: the plan's cost reaches the JIT
# threshold and compiling it took ~0.9 s (EXPLAIN ANALYZE, 10 k clocks) for a ~0.5 s query
LOCAL_SETTINGS = text("SELECT set_config('jit', 'off', true), set_config('work_mem', '32MB', true)")
SCHEDULE_SQL = text("""
    SELECT id, next_threshold_at FROM approvals.approval_case
     WHERE next_threshold_at > :now AND next_threshold_at <= :until
     ORDER BY next_threshold_at LIMIT :batch
""")


async def sweep(
    session: AsyncSession,
    *,
    now: datetime | None = None,
    case_id: uuid.UUID | None = None,
    batch: int | None = None,
) -> dict[str, int]:
    """Fire every threshold reached by ``now`` (all cases, or one); returns counts."""
    now = now or clock.now()
    params = {
        "now": now,
        "cut": now.timestamp(),
        "batch": batch or approvals_settings().sweep_batch,
        "request_id": request_id_var.get(),
        "actor": SYSTEM_PRINCIPAL.subject,
        "actor_role": str(SYSTEM_PRINCIPAL.role),
        "actor_unit": SYSTEM_PRINCIPAL.unit_id,
    }
    if case_id:
        params["case_id"] = case_id
    await session.execute(LOCAL_SETTINGS)
    row = (await session.execute(SWEEP_ONE if case_id else SWEEP, params)).one()
    return {"moved": row.moved, "events": row.events}


async def due_soon(
    session: AsyncSession, *, now: datetime | None = None, horizon_s: int | None = None, batch: int = 10000
) -> list[tuple[uuid.UUID, datetime]]:
    """(case id, moment) of the thresholds due within the horizon (for exact jobs)."""
    now = now or clock.now()
    until = now + timedelta(seconds=horizon_s or approvals_settings().schedule_horizon_s)
    rows = await session.execute(SCHEDULE_SQL, {"now": now, "until": until, "batch": batch})
    return [(r.id, r.next_threshold_at) for r in rows]


def job_id(case_id: uuid.UUID, at: datetime) -> str:
    return f"clock:{case_id}:{int(at.timestamp())}"
