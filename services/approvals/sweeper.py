"""Moving clocks across their warning / overdue / missing-items thresholds (R17, R19).

Two triggers, one code path, both idempotent:
* the sweeper cron (arq ``unique`` cron: one run across worker replicas) takes every case
  with ``next_threshold_at <= now`` (a partial index holds only clocks with a threshold
  ahead), fires what is due once, and moves ``next_threshold_at`` on — set-based: one
  locked SELECT, one UPDATE over ``unnest`` arrays, bulk outbox and audit inserts;
* an exact deferred job per due moment (``clock_due``), scheduled by the cron for the
  moments inside the next ``schedule_horizon_s``; its arq job id
  ``clock:{case}:{moment}`` makes it unique across replicas and re-scheduling a no-op.
The UPDATE is optimistic on ``version``: of two sweeps reading the same clock only one
moves it; a threshold's key in ``fired`` means it never fires twice.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.approvals.config import approvals_settings
from services.approvals.thresholds import audit_rows, event_rows, moved_state, split_due, write_rows
from shared.identity import SYSTEM_PRINCIPAL
from shared.jsonutil import dumps

DUE_SQL = text("""
    SELECT id, version, project_id, project_code, kind, unit_id, state, thresholds, fired,
           missing_items_overdue
      FROM approvals.approval_case
     WHERE next_threshold_at <= :now {only}
     ORDER BY next_threshold_at
     LIMIT :batch
""")
MOVE_SQL = text("""
    UPDATE approvals.approval_case AS c
       SET state = v.state, thresholds = v.thresholds::jsonb, fired = v.fired::jsonb,
           next_threshold_at = v.next_at, missing_items_overdue = v.mio,
           version = c.version + 1, updated_at = :now
      FROM unnest(CAST(:ids AS uuid[]), CAST(:versions AS int[]), CAST(:states AS text[]),
                  CAST(:ths AS text[]), CAST(:fired AS text[]),
                  CAST(:next_at AS timestamptz[]), CAST(:mio AS boolean[]))
           AS v(id, version, state, thresholds, fired, next_at, mio)
     WHERE c.id = v.id AND c.version = v.version
 RETURNING c.id
""")
SCHEDULE_SQL = text("""
    SELECT id, next_threshold_at FROM approvals.approval_case
     WHERE next_threshold_at > :now AND next_threshold_at <= :until
     ORDER BY next_threshold_at LIMIT :batch
""")


async def sweep(session: AsyncSession, *, now: datetime | None = None,
                case_id: uuid.UUID | None = None, batch: int | None = None) -> dict[str, int]:
    """Fire every threshold reached by ``now`` (all cases, or one); returns counts."""
    now = now or datetime.now(UTC)
    batch = batch or approvals_settings().sweep_batch
    only = "AND id = :case_id" if case_id else ""
    params: dict[str, Any] = {"now": now, "batch": batch}
    if case_id:
        params["case_id"] = case_id
    rows = (await session.execute(text(DUE_SQL.text.format(only=only)), params)).all()
    ids, versions, states, ths, fired_col, next_at, mio = [], [], [], [], [], [], []
    events: dict[uuid.UUID, list[dict]] = {}
    audits: dict[uuid.UUID, list[dict]] = {}
    for r in rows:
        due, ahead = split_due(r.thresholds, r.fired, now)
        state = moved_state(r.state, due) if r.state in ("running", "warning") else r.state
        if any(t["type"] == "overdue" for t in due) and r.state == "paused":
            state = "overdue"
        ids.append(r.id)
        versions.append(r.version)
        states.append(state)
        ths.append(dumps(ahead))
        fired_col.append(dumps([*r.fired, *(t["key"] for t in due)]))
        next_at.append(datetime.fromisoformat(ahead[0]["at"]) if ahead else None)
        mio.append(bool(r.missing_items_overdue or any(
            t["type"] == "missing_items_overdue" for t in due)))
        events[r.id] = event_rows(r, due)
        audits[r.id] = audit_rows(r, SYSTEM_PRINCIPAL, due, r.state, state)
    if not ids:
        return {"moved": 0, "events": 0}
    # optimistic: a clock moved meanwhile (another sweep, the exact job, an event) has
    # another version and is left alone — its thresholds never fire twice
    moved = (await session.execute(MOVE_SQL, {
        "ids": ids, "versions": versions, "states": states, "ths": ths, "fired": fired_col,
        "next_at": next_at, "mio": mio, "now": now})).scalars().all()
    out_events = [e for cid in moved for e in events[cid]]
    await write_rows(session, out_events, [a for cid in moved for a in audits[cid]])
    return {"moved": len(moved), "events": len(out_events)}


async def due_soon(session: AsyncSession, *, now: datetime | None = None,
                   horizon_s: int | None = None, batch: int = 10000
                   ) -> list[tuple[uuid.UUID, datetime]]:
    """(case id, moment) of the thresholds due within the horizon (for exact jobs)."""
    now = now or datetime.now(UTC)
    until = now + timedelta(seconds=horizon_s or approvals_settings().schedule_horizon_s)
    rows = await session.execute(SCHEDULE_SQL, {"now": now, "until": until, "batch": batch})
    return [(r.id, r.next_threshold_at) for r in rows]


def job_id(case_id: uuid.UUID, at: datetime) -> str:
    return f"clock:{case_id}:{int(at.timestamp())}"
