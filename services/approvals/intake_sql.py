"""The two statements of a service-hall event (``events_intake.record_event``).

``LOAD`` reads, in one round trip, the case (locked), its whole event log as arrays and
the calendar's cache key; ``WRITE`` inserts the event, updates the case's derived clock
columns and inserts the outbox events and audit rows of the change (arrays, in order, by
the one writer's ``insert_ctes``) — one statement, so one round trip, in the request's
transaction. ``LOAD_MANY`` is ``LOAD`` for a batch's cases, locked in id order.

Each is a ``text()`` statement compiled once for the driver (``driver_statement``: public
SQLAlchemy API, no hand-rewritten parameters) and run on the request's ``WriteConnection``
(issue 15): straight to asyncpg, which keeps it prepared per connection, in the one
transaction the unit of work commits — no session, ORM or execution layer in between.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from sqlalchemy import text

from services.approvals.models import pipeline
from shared.db import WriteConnection, driver_statement
from shared.jsonutil import dumps

CASE_COLUMNS = (
    "id",
    "project_id",
    "project_code",
    "project_name",
    "unit_id",
    "kind",
    "kind_name",
    "steps",
    "total_limit_days",
    "warn_share",
    "warn_days_left",
    "supplement_window_days",
    "agency_unit_ids",
    "project_type",
    "acceptance_mode",
    "missing_items",
    "missing_items_due",
    "missing_items_supplied_on",
    "missing_items_overdue",
    "fast_track",
    "assistant",
    "fast_track_basis",
    "three_zeros",
    "phase",
    "state",
    "current_step",
    "received_on",
    "accepted_on",
    "due_date",
    "due_provisional",
    "step_due_date",
    "completed_on",
    "thresholds",
    "fired",
    "next_threshold_at",
    "version",
)
LOG_COLUMNS = (
    "log_seq",
    "log_event_id",
    "log_type",
    "log_at",
    "log_step_code",
    "log_reason",
    "log_evidence_ref",
    "log_hash",
)
JSON_COLUMNS = ("steps", "missing_items", "assistant", "three_zeros", "thresholds", "fired")


def _load(where: str, order_by: str = "") -> Any:
    return text(f"""
    SELECT {", ".join(f"c.{col}" for col in CASE_COLUMNS)},
           (SELECT coalesce(max(revision), 0) * 10000 + count(*)
              FROM approvals.calendar_year) AS calendar_revision,
           l.*
      FROM approvals.approval_case AS c
      LEFT JOIN LATERAL (
           SELECT array_agg(e.id ORDER BY e.occurred_at, e.id) AS log_seq,
                  array_agg(e.event_id ORDER BY e.occurred_at, e.id) AS log_event_id,
                  array_agg(e.type ORDER BY e.occurred_at, e.id) AS log_type,
                  array_agg(e.occurred_at ORDER BY e.occurred_at, e.id) AS log_at,
                  array_agg(e.step_code ORDER BY e.occurred_at, e.id) AS log_step_code,
                  array_agg(e.reason ORDER BY e.occurred_at, e.id) AS log_reason,
                  array_agg(e.evidence_ref ORDER BY e.occurred_at, e.id) AS log_evidence_ref,
                  array_agg(e.payload_hash ORDER BY e.occurred_at, e.id) AS log_hash,
                  (SELECT s.version FROM approvals.approval_case AS s WHERE s.id = c.id)
                      AS seen_version
             FROM approvals.case_event AS e
            WHERE e.case_id = c.id) AS l ON true
     WHERE {where} {order_by}
       FOR UPDATE OF c
""")


LOAD = _load("c.id = :case_id")
# a batch locks its cases in id order, so two batches (or a batch and single events) over
# the same cases wait for each other instead of deadlocking
LOAD_MANY = _load("c.id = ANY(CAST(:case_ids AS uuid[]))", "ORDER BY c.id")

RESULT_OF = text("SELECT result::text FROM approvals.case_event WHERE event_id = :event_id")

WRITE = text(f"""
WITH ev AS (
    INSERT INTO approvals.case_event (case_id, event_id, type, occurred_at, step_code, reason,
                                      evidence_ref, note, payload_hash, result, actor,
                                      received_at)
    VALUES (:case_id, :event_id, :type, :occurred_at, :step_code, :reason, :evidence_ref, :note,
            :payload_hash, CAST(:result AS jsonb), :actor, :now)
    ON CONFLICT (event_id) DO NOTHING
    RETURNING id
), upd AS (
    UPDATE approvals.approval_case
       SET phase = :phase, state = :state, current_step = :current_step,
           received_on = :received_on, accepted_on = :accepted_on, completed_on = :completed_on,
           missing_items_supplied_on = :missing_items_supplied_on, due_date = :due_date,
           due_provisional = :due_provisional, step_due_date = :step_due_date,
           thresholds = CAST(:thresholds AS jsonb), fired = CAST(:fired AS jsonb),
           next_threshold_at = :next_threshold_at,
           missing_items_overdue = :missing_items_overdue, version = :version,
           updated_at = :now
     WHERE id = :case_id AND EXISTS (SELECT FROM ev)
), {pipeline.writer.insert_ctes(guard="EXISTS (SELECT FROM ev)")}
SELECT id FROM ev
""")


def _stale(row: Any) -> bool:
    """Whether ``LOAD`` waited for the case's lock while another event was committed: under
    READ COMMITTED the locked row is then its newest version (``version``), but the log was
    read in the statement's older snapshot (``seen_version``) and lacks that event. Read
    again, holding the lock, the log is complete."""
    return row["version"] != row["seen_version"]


_LOAD, _LOAD_MANY, _WRITE, _RESULT_OF = map(driver_statement, (LOAD, LOAD_MANY, WRITE, RESULT_OF))


async def load(conn: WriteConnection, case_id: Any) -> Any:
    """``LOAD`` in the request's transaction: the case row (locked) with its log, or None."""
    row = await conn.fetchrow(_LOAD, {"case_id": case_id})
    if row is not None and _stale(row):
        row = await conn.fetchrow(_LOAD, {"case_id": case_id})
    return row


async def load_many(conn: WriteConnection, case_ids: list[Any]) -> list[Any]:
    """``LOAD`` of a batch's cases (locked, in id order): the rows of those that exist."""
    params = {"case_ids": sorted(case_ids)}
    rows = await conn.fetch(_LOAD_MANY, params)
    if any(_stale(row) for row in rows):
        rows = await conn.fetch(_LOAD_MANY, params)
    return rows


async def write(conn: WriteConnection, params: dict[str, Any]) -> int | None:
    """``WRITE`` in the request's transaction: the new event's id, or None when the event id
    was already used (for another case)."""
    return await conn.fetchval(_WRITE, params)


async def first_result(conn: WriteConnection, event_id: str) -> str:
    """The stored answer of an event already recorded (a replay is answered with it)."""
    return await conn.fetchval(_RESULT_OF, {"event_id": event_id})


def case_of(row: Any) -> SimpleNamespace:
    """The case as a plain object (``apply_clock``, ``case_summary`` read its attributes)."""
    case = SimpleNamespace(**{col: row[col] for col in CASE_COLUMNS})
    for col in JSON_COLUMNS:
        value = getattr(case, col)
        if isinstance(value, str):
            setattr(case, col, json.loads(value))
    return case


def case_params(case: SimpleNamespace) -> dict[str, Any]:
    return {
        "phase": case.phase,
        "state": case.state,
        "current_step": case.current_step,
        "received_on": case.received_on,
        "accepted_on": case.accepted_on,
        "completed_on": case.completed_on,
        "missing_items_supplied_on": case.missing_items_supplied_on,
        "due_date": case.due_date,
        "due_provisional": case.due_provisional,
        "step_due_date": case.step_due_date,
        "thresholds": dumps(case.thresholds),
        "fired": dumps(case.fired),
        "next_threshold_at": case.next_threshold_at,
        "missing_items_overdue": case.missing_items_overdue,
        "version": case.version,
    }
