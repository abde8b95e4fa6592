"""Warning / overdue / missing-items thresholds of a clock, and firing them once (R17, R19).

The clock (``clock.py``) gives dates; here they become moments (00:00 Asia/Shanghai of the
warning day, of the day after the due date, of the day after the missing items' due date)
stored on the case as ``thresholds`` with ``next_threshold_at`` indexed for the sweeper.
A threshold fires once: its key goes into ``fired`` and it emits its event in the same
transaction as the state change.

The rule of which threshold fires is defined once, here, as data: each threshold carries
its ``scope`` (the clock it belongs to: ``chain``, ``step:<code>``, ``missing_items``) and
the window in which it may fire, ``ts`` ≤ now < ``until_ts`` (no ``until_ts``: open). A
warning's window closes when its clock's overdue moment comes — an overdue reached makes a
warning that never fired moot (R17). ``split_due`` (events, calendar changes) and the
sweeper's statement (``sweeper.py``, cron and exact job) only compare ``now`` with the
window; ``tests/approvals/test_threshold_rule.py`` runs both over the same hand-worked
cases. Keys are identities (what ``fired`` holds), never parsed.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from services.approvals.clock import ClockResult, Segment
from shared import clock, contracts
from shared.event_tables import AuditRow, EventRow, audit_row, event_row

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
    since = seg.due_date + timedelta(days=1)
    overdue_ts = int(moment(since).timestamp())
    for reason, d in seg.warn_dates.items():
        out.append(
            base
            | {
                "key": f"{scope}:warning:{reason}",
                "scope": scope,
                "type": "warning",
                "at": moment(d).isoformat(),
                "ts": int(moment(d).timestamp()),
                "until_ts": overdue_ts,  # policy R17: once overdue, a warning is moot
                "reason": reason,
                "days_left": seg.limit_days - warn_at[reason],
            }
        )
    out.append(
        base
        | {
            "key": f"{scope}:overdue",
            "scope": scope,
            "type": "overdue",
            "at": moment(since).isoformat(),
            "ts": overdue_ts,
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
                "scope": "missing_items",
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
    """(thresholds to fire now, thresholds still ahead), skipping those fired before; a
    threshold whose window closed unfired is in neither (see the module's docstring)."""
    done = set(fired)
    cut = now.timestamp()
    due, ahead = [], []
    for t in pending:
        if t["key"] in done:
            continue
        if t["ts"] > cut:
            ahead.append(t)
        elif t.get("until_ts") is None or cut < t["until_ts"]:
            due.append(t)
    return due, ahead


def event_rows(case: Any, fired_now: list[dict]) -> list[EventRow]:
    return [
        event_row(contracts.build(EVENT_OF[t["type"]], payload_of(case, t)), key=str(case.id))
        for t in fired_now
    ]


def audit_rows(case: Any, principal: Any, fired_now: list[dict], before: str, after: str) -> list[AuditRow]:
    return [
        audit_row(
            principal,
            entity="approval_case",
            entity_id=case.id,
            action=f"clock.{t['type']}",
            before={"state": before},
            after={"state": after, "threshold": t["key"], "at": t["at"]},
            reason="时限阈值到达（系统计时）",
        )
        for t in fired_now
    ]
