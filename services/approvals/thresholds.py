"""Warning / overdue / missing-items thresholds of a clock, and firing them once (R17, R19).

The clock (``clock.py``) gives dates; here they become moments (00:00 Asia/Shanghai of the
warning day, of the day after the due date, of the day after the missing items' due date)
stored on the case as ``thresholds`` with ``next_threshold_at`` indexed for the sweeper.
A threshold fires once: its key goes into ``fired`` and it emits its event in the same
transaction as the state change (the sweeper and the exact deferred job share this code).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text

from services.approvals.clock import ClockResult, Segment
from shared import clock, contracts
from shared.jsonutil import dumps
from shared.logging import request_id_var

EVENT_OF = {
    "warning": "approval.warning",
    "overdue": "approval.overdue",
    "missing_items_overdue": "approval.missing_items_overdue",
}


def moment(d: date) -> datetime:
    """00:00 of business date ``d`` in the business time zone."""
    return datetime.combine(d, time(0), tzinfo=clock.business_tz())


def _segment_thresholds(
    seg: Segment, scope: str, agency: str | None, warn_at: dict[str, int]
) -> list[dict[str, Any]]:
    out = []
    base = {
        "step_code": seg.code,
        "step_name": seg.name,
        "agency_unit_id": agency,
        "due_date": seg.due_date.isoformat() if seg.due_date else None,
        "limit_days": seg.limit_days,
    }
    if seg.due_date is None:
        return out
    for reason, d in seg.warn_dates.items():
        out.append(
            base
            | {
                "key": f"{scope}:warning:{reason}",
                "type": "warning",
                "at": moment(d).isoformat(),
                "ts": int(moment(d).timestamp()),
                "reason": reason,
                "days_left": seg.limit_days - warn_at[reason],
            }
        )
    since = seg.due_date + timedelta(days=1)
    out.append(
        base
        | {
            "key": f"{scope}:overdue",
            "type": "overdue",
            "at": moment(since).isoformat(),
            "ts": int(moment(since).timestamp()),
            "overdue_since": since.isoformat(),
        }
    )
    return out


def thresholds_of(
    clock: ClockResult,
    *,
    warn_at: dict[str, dict[str, int]],
    missing_items: list[str],
    missing_items_due: date | None,
) -> list[dict]:
    """Every threshold of the clock as it stands (fired or not)."""
    out: list[dict] = []
    if (
        clock.phase in ("submitted", "running", "paused")
        and clock.current_step is not None
        and clock.chain.start is not None
    ):
        # policy R16: a step counts from its application, so its window time before
        # acceptance ("submitted") runs the clock too
        cur = next(s for s in clock.steps if s.code == clock.current_step)
        if clock.phase != "paused" or clock.chain.state == "overdue":
            out += _segment_thresholds(clock.chain, "chain", cur.agency_unit_id, warn_at["chain"])
        if clock.phase != "paused" or cur.state == "overdue":
            out += _segment_thresholds(cur, f"step:{cur.code}", cur.agency_unit_id, warn_at["step"][cur.code])
        if clock.phase == "paused":  # a stopped clock only keeps an overdue already reached
            out = [t for t in out if t["type"] == "overdue"]
    if (
        missing_items_due is not None
        and clock.missing_items_supplied_on is None
        and clock.phase != "rejected"
    ):
        m = moment(missing_items_due + timedelta(days=1))
        out.append(
            {
                "key": "missing_items",
                "type": "missing_items_overdue",
                "at": m.isoformat(),
                "ts": int(m.timestamp()),
                "items": list(missing_items),
                "due_date": missing_items_due.isoformat(),
            }
        )
    return sorted(out, key=lambda t: t["ts"])


def payload_of(case: Any, t: dict[str, Any]) -> dict[str, Any]:
    if t["type"] == "missing_items_overdue":
        return {
            "case_id": str(case.id),
            "project_id": str(case.project_id),
            "project_code": case.project_code,
            "kind": case.kind,
            "items": t["items"],
            "due_date": t["due_date"],
        }
    body = {
        "case_id": str(case.id),
        "project_id": str(case.project_id),
        "project_code": case.project_code,
        "kind": case.kind,
        "unit_id": case.unit_id,
        "step_code": t["step_code"],
        "step_name": t["step_name"],
        "agency_unit_id": t["agency_unit_id"],
        "due_date": t["due_date"],
        "limit_days": t["limit_days"],
    }
    if t["type"] == "warning":
        body |= {"days_left": t["days_left"], "warning_reason": t["reason"]}
    else:
        body["overdue_since"] = t["overdue_since"]
    return body


def split_due(pending: list[dict], fired: list[str], now: datetime) -> tuple[list[dict], list[dict]]:
    """(thresholds to fire now, thresholds still ahead), skipping those fired before."""
    done = set(fired)
    cut = now.timestamp()
    due, ahead = [], []
    for t in pending:
        if t["key"] in done:
            continue
        (due if t["ts"] <= cut else ahead).append(t)
    # an overdue firing now makes a warning of the same clock that never fired moot
    overdue_scopes = {t["key"].rsplit(":", 1)[0] for t in due if t["type"] == "overdue"}
    due = [
        t for t in due if not (t["type"] == "warning" and t["key"].split(":warning:")[0] in overdue_scopes)
    ]
    return due, ahead


def event_rows(case: Any, fired_now: list[dict]) -> list[dict]:
    rid = request_id_var.get()
    return [
        {
            "id": uuid.uuid4(),
            "type": EVENT_OF[t["type"]],
            "key": str(case.id),
            "payload": contracts.build(EVENT_OF[t["type"]], payload_of(case, t)).payload_json(),
            "request_id": rid,
        }
        for t in fired_now
    ]


def audit_rows(case: Any, principal: Any, fired_now: list[dict], before: str, after: str) -> list[dict]:
    rid = request_id_var.get()
    return [
        {
            "actor": principal.subject,
            "actor_role": str(principal.role),
            "actor_unit": principal.unit_id,
            "entity": "approval_case",
            "entity_id": str(case.id),
            "action": f"clock.{t['type']}",
            "before": dumps({"state": before}),
            "after": dumps({"state": after, "threshold": t["key"], "at": t["at"]}),
            "reason": "时限阈值到达（系统计时）",
            "request_id": rid,
        }
        for t in fired_now
    ]


OUTBOX_SQL = text("""
    INSERT INTO approvals.outbox (id, type, key, payload, request_id, created_at)
    SELECT id, type, key, payload::jsonb, request_id, CAST(:now AS timestamptz)
      FROM unnest(CAST(:id AS uuid[]), CAST(:type AS text[]), CAST(:key AS text[]),
                  CAST(:payload AS text[]), CAST(:request_id AS text[]))
           AS v(id, type, key, payload, request_id)
""")
AUDIT_SQL = text("""
    INSERT INTO approvals.audit_log (actor, actor_role, actor_unit, entity, entity_id, action,
                                     before, after, reason, request_id, at)
    SELECT actor, actor_role, actor_unit, entity, entity_id, action, before::jsonb,
           after::jsonb, reason, request_id, CAST(:now AS timestamptz)
      FROM unnest(CAST(:actor AS text[]), CAST(:actor_role AS text[]),
                  CAST(:actor_unit AS text[]), CAST(:entity AS text[]),
                  CAST(:entity_id AS text[]), CAST(:action AS text[]), CAST(:before AS text[]),
                  CAST(:after AS text[]), CAST(:reason AS text[]), CAST(:request_id AS text[]))
           AS v(actor, actor_role, actor_unit, entity, entity_id, action, before, after, reason,
                request_id)
""")


def _columns(rows: list[dict]) -> dict[str, list]:
    return {k: [r[k] for r in rows] for k in rows[0]}


async def write_rows(session, events: list[dict], audits: list[dict]) -> None:
    """Bulk outbox and audit inserts (the tables pipeline.emit / pipeline.audit write), one
    statement each over unnest arrays."""
    now = clock.now()
    if events:
        await session.execute(OUTBOX_SQL, _columns(events) | {"now": now})
    if audits:
        await session.execute(AUDIT_SQL, _columns(audits) | {"now": now})
