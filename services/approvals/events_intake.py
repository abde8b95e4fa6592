"""Service-hall event intake (R16–R19): idempotent by ``event_id``, ordered by
``occurred_at``, refused with 409 when the case's state does not allow it.

The event is inserted into the case's log and the whole log replayed (``clock.py``): an
event arriving late but fitting its place in time is accepted; one that makes the history
impossible is refused, naming the state and the allowed events.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from services.approvals.access import require_post_event
from services.approvals.calendar_store import calendar_as_loaded
from services.approvals.cases import case_summary
from services.approvals.clock import ImpossibleEvent, LogEvent
from services.approvals.config import approvals_settings
from services.approvals.intake_sql import case_of, case_params, first_result, load, write
from services.approvals.models import pipeline
from services.approvals.recompute import compute_clock, deadline_snapshot, derive_clock
from services.approvals.schemas import EventIn
from shared import clock, contracts
from shared.calendar import WorkingCalendar
from shared.db import WriteConnection
from shared.errors import Conflict, InvalidInput, NotFound
from shared.event_tables import EventRow, audit_row, event_row
from shared.identity import Principal
from shared.jsonutil import dumps
from shared.settings import get_settings

EVENT_FIELDS = frozenset(EventIn.model_fields)


def payload_hash(data: EventIn) -> str:
    # the event's own fields only: the same event sent alone or in a batch (which names its
    # case beside it) is the same event
    body = data.model_dump(mode="json", include=EVENT_FIELDS)
    body["occurred_at"] = data.occurred_at.astimezone(UTC).isoformat()
    return hashlib.sha256(dumps(body).encode()).hexdigest()


def _check_fields(data: EventIn) -> None:
    if data.type == "paused" and (data.reason is None or not data.evidence_ref):
        raise InvalidInput(
            "暂停计时须注明法定事由及依据文书编号",
            code="approval_event.pause_reason_required",
            fields=[{"field": "reason", "message": "必填"}, {"field": "evidence_ref", "message": "必填"}],
        )
    if data.type == "supplement_requested" and not data.evidence_ref:
        raise InvalidInput(
            "补正告知须注明补正告知书编号",
            code="approval_event.evidence_required",
            fields=[{"field": "evidence_ref", "message": "必填"}],
        )
    reasons = approvals_settings().pause_reasons
    if data.type == "paused" and data.reason not in reasons:  # policy R18
        raise InvalidInput(
            f"“{data.reason}”不是不计入审批时限的法定事由（行政许可法第四十五条：听证、招标、拍卖、"
            f"检验、检测、检疫、鉴定、专家评审），计时继续；可用事由：{'、'.join(reasons)}",
            code="approval_event.pause_reason_not_excluded",
            fields=[{"field": "reason", "message": "不是法定不计时事由"}],
        )
    if data.reason is not None and data.type != "paused":
        raise InvalidInput(
            "只有 paused 事件可填写暂停事由",
            code="approval_event.reason_not_allowed",
            fields=[{"field": "reason", "message": "仅 paused 可用"}],
        )


@dataclass
class CaseLog:
    """One case as ``LOAD`` read it (locked), kept current across the events a request
    records: the case's columns, its log in time order and event id → payload hash."""

    case: SimpleNamespace
    log: list[LogEvent]
    hashes: dict[str, str]

    @classmethod
    def of(cls, row: Any) -> CaseLog:
        return cls(case_of(row), *log_of(row))


async def post_event(
    conn: WriteConnection, *, principal: Principal, case_id: uuid.UUID, data: EventIn
) -> tuple[int, str]:
    """Returns (status, JSON body): 201 first time, 200 with the first result on a replay.

    Two statements: ``intake_sql.LOAD`` (case locked + log + calendar key) and
    ``intake_sql.WRITE`` (event, case, outbox events, audit rows: all or nothing).
    """
    now = clock.now()
    row = await load(conn, case_id)
    if row is None:
        raise case_not_found(case_id)
    cal = await calendar_as_loaded(conn, row["calendar_revision"])
    return await record_event(conn, principal, CaseLog.of(row), data, cal, now)


def case_not_found(case_id: uuid.UUID) -> NotFound:
    return NotFound(f"审批案件 {case_id} 不存在", code="approval_case.not_found")


async def record_event(
    conn: WriteConnection,
    principal: Principal,
    state: CaseLog,
    data: EventIn,
    cal: WorkingCalendar,
    now: datetime,
) -> tuple[int, str]:
    """Record one event on a locked case: (201, body), or (200, first body) on a replay.

    Every refusal is raised before the one ``WRITE``, so a refused event leaves nothing
    behind and ``state`` unchanged; ``state`` takes the event only once it is written."""
    require_post_event(principal, state.case)
    digest = payload_hash(data)
    if data.event_id in state.hashes:
        if state.hashes[data.event_id] != digest:
            raise Conflict(
                f"事件 id {data.event_id} 已用于另一内容的事件",
                code="approval_event.id_reused",
                event_id=data.event_id,
            )
        return 200, await first_result(conn, data.event_id)
    skew = timedelta(seconds=get_settings().max_clock_skew_s)
    if data.occurred_at > now + skew:
        raise InvalidInput(
            "事件发生时间晚于当前时间",
            code="approval_event.in_future",
            fields=[{"field": "occurred_at", "message": "不得晚于当前时间"}],
        )
    _check_fields(data)
    new = LogEvent(
        seq=max((e.seq for e in state.log), default=0) + 1,
        event_id=data.event_id,
        type=data.type,
        on=clock.business_date(data.occurred_at),
        at=data.occurred_at,
        step_code=data.step_code,
        reason=data.reason,
        evidence_ref=data.evidence_ref,
    )
    case = SimpleNamespace(**vars(state.case))  # changed in place only once written
    try:
        result, approval_clock = compute_clock(case, [*state.log, new], cal, clock.business_date(now))
    except ImpossibleEvent as exc:
        raise Conflict(
            exc.detail,
            code=exc.code,
            state=exc.state,
            allowed_events=exc.allowed,
            event_type=exc.event.type,
            event_id=exc.event.event_id,
        ) from None
    before = deadline_snapshot(case)
    old_phase, old_step = case.phase, case.current_step
    _, events, audits = derive_clock(case, result, approval_clock, now=now, principal=principal)
    events += _transitions(case, result, old_phase, old_step, now)
    after = deadline_snapshot(case) | {
        "event_id": data.event_id,
        "occurred_at": data.occurred_at,
        "evidence_ref": data.evidence_ref,
    }
    audits.append(
        audit_row(
            principal,
            entity="approval_case",
            entity_id=case.id,
            action=f"event.{data.type}",
            before=before,
            after=after,
            reason=data.note,
            now=now,
        )
    )
    event = {
        "event_id": data.event_id,
        "type": data.type,
        "occurred_at": data.occurred_at,
        "step_code": data.step_code,
        "reason": data.reason,
        "evidence_ref": data.evidence_ref,
        "note": data.note,
        "received_at": now,
    }
    body = dumps({"event": event, "case": case_summary(case)})
    inserted = await write(
        conn,
        case_params(case)
        | {
            "case_id": case.id,
            "event_id": data.event_id,
            "type": data.type,
            "occurred_at": data.occurred_at,
            "step_code": data.step_code,
            "reason": data.reason,
            "evidence_ref": data.evidence_ref,
            "note": data.note,
            "payload_hash": digest,
            "result": body,
            "actor": principal.subject,
            "now": now,
        }
        | pipeline.writer.params(events, audits),
    )
    if inserted is None:  # the id was used for another case's event
        raise Conflict(
            f"事件 id {data.event_id} 已用于另一内容的事件",
            code="approval_event.id_reused",
            event_id=data.event_id,
        )
    state.case = case
    state.log = sorted([*state.log, replace(new, seq=inserted)], key=lambda e: (e.at, e.seq))
    state.hashes[data.event_id] = digest
    return 201, body


def log_of(row: Any) -> tuple[list[LogEvent], dict[str, str]]:
    """The log (time order) and event id → payload hash from ``LOAD``'s arrays."""
    if row["log_seq"] is None:
        return [], {}
    log = [
        LogEvent(
            seq=seq,
            event_id=eid,
            type=t,
            on=clock.business_date(at),
            at=at,
            step_code=sc,
            reason=r,
            evidence_ref=ev,
        )
        for seq, eid, t, at, sc, r, ev in zip(
            row["log_seq"],
            row["log_event_id"],
            row["log_type"],
            row["log_at"],
            row["log_step_code"],
            row["log_reason"],
            row["log_evidence_ref"],
            strict=True,
        )
    ]
    return log, dict(zip(row["log_event_id"], row["log_hash"], strict=True))


def _transitions(case: Any, result, old_phase: str, old_step: str | None, now: datetime) -> list[EventRow]:
    """Outbox rows of the steps and chain this event ended."""
    base = {
        "case_id": case.id,
        "project_id": case.project_id,
        "project_code": case.project_code,
        "kind": case.kind,
        "unit_id": case.unit_id,
    }
    out: list[tuple[str, dict]] = []
    finished = [s for s in result.steps if s.end is not None and s.state == "done"]
    newly = [s for s in finished if old_step == s.code and case.current_step != s.code]
    for s in newly:
        out.append(
            (
                "approval.step_completed",
                base
                | {
                    "step_code": s.code,
                    "step_name": s.name,
                    "agency_unit_id": s.agency_unit_id,
                    "completed_on": s.end,
                    "used_days": s.used_days,
                    "limit_days": s.limit_days,
                    "on_time": s.on_time,
                },
            )
        )
    if result.phase == "done" and old_phase != "done":
        out.append(
            (
                "approval.completed",
                base
                | {
                    "completed_on": result.completed_on,
                    "working_days_used": result.chain.used_days,
                    "limit_days": result.chain.limit_days,
                    "on_time": bool(result.chain.on_time),
                    "agency_unit_ids": case.agency_unit_ids,
                    "steps": [
                        {
                            "step_code": s.code,
                            "used_days": s.used_days,
                            "limit_days": s.limit_days,
                            "agency_unit_id": s.agency_unit_id,
                            "on_time": s.on_time,
                        }
                        for s in result.steps
                    ],
                },
            )
        )
    if result.phase == "rejected" and old_phase != "rejected":
        out.append(("approval.rejected", base | {"rejected_on": result.rejected_on, "step_code": old_step}))
    return [event_row(contracts.build(t, p), key=str(case.id), now=now) for t, p in out]
