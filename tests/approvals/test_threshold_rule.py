"""Issue 16: the threshold rule is defined once (``thresholds.py``: each threshold's window
``ts`` ≤ now < ``until_ts``), and the two places that read it — ``split_due`` (events,
calendar changes) and the sweeper's statement (cron, exact job) — fire the same thresholds
and keep the same ones ahead, over hand-worked cases and a seeded spread of others.

Every sweep here runs in a transaction rolled back at the end: no probe event leaves it.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from services.approvals.models import ApprovalCase
from services.approvals.sweeper import sweep
from services.approvals.thresholds import moment, split_due
from shared.db import sessionmaker


def th(scope: str, type_: str, day: date, *, reason: str = "share", overdue_on: date | None = None) -> dict:
    """A threshold as ``thresholds_of`` makes it (a warning's window closes at its clock's
    overdue moment, ``overdue_on``)."""
    at = moment(day)
    base = {
        "key": f"{scope}:{type_}" if type_ != "warning" else f"{scope}:warning:{reason}",
        "scope": scope,
        "type": type_,
        "at": at.isoformat(),
        "ts": int(at.timestamp()),
    }
    if type_ == "missing_items_overdue":
        return base | {
            "key": "missing_items",
            "items": ["环评批复"],
            "due_date": str(day - timedelta(days=1)),
        }
    base |= {
        "step_code": scope.removeprefix("step:") if scope != "chain" else None,
        "step_name": "项目赋码备案" if scope != "chain" else None,
        "agency_unit_id": "dept-fgj",
        "due_date": str((overdue_on or day) - timedelta(days=1)),
        "limit_days": 3,
    }
    if type_ == "warning":
        return base | {"until_ts": int(moment(overdue_on).timestamp()), "reason": reason, "days_left": 1}
    return base | {"overdue_since": str(day)}


D = date(2026, 11, 30)  # a Monday; moments are 00:00 Asia/Shanghai
STEP_W = th("step:project_filing", "warning", D, overdue_on=D + timedelta(days=2))
STEP_W3 = th(
    "step:project_filing",
    "warning",
    D + timedelta(days=1),
    reason="days_left",
    overdue_on=D + timedelta(days=2),
)
STEP_O = th("step:project_filing", "overdue", D + timedelta(days=2))
CHAIN_W = th("chain", "warning", D + timedelta(days=1), overdue_on=D + timedelta(days=10))
CHAIN_O = th("chain", "overdue", D + timedelta(days=10))
MISSING = th("missing", "missing_items_overdue", D + timedelta(days=3))


def at(day: date, hour: int = 0) -> datetime:
    return moment(day) + timedelta(hours=hour)


# (pending thresholds, fired before, now) → (keys firing now, keys still ahead), worked by hand
HAND_WORKED: list[tuple[list[dict], list[str], datetime, list[str], list[str]]] = [
    # policy R17: nothing reached yet
    ([STEP_W, STEP_O], [], at(D - timedelta(days=1), 23), [], [STEP_W["key"], STEP_O["key"]]),
    # R17: a warning fires at its moment (≤), its overdue stays ahead
    ([STEP_W, STEP_O], [], at(D), [STEP_W["key"]], [STEP_O["key"]]),
    ([STEP_W, STEP_O], [], at(D, 10), [STEP_W["key"]], [STEP_O["key"]]),
    # R17: both warnings of a step reached on the same sweep fire, in time order
    (
        [STEP_W, STEP_W3, STEP_O],
        [],
        at(D + timedelta(days=1), 8),
        [STEP_W["key"], STEP_W3["key"]],
        [STEP_O["key"]],
    ),
    # R17: the overdue reached makes the unfired warnings of the same clock moot
    ([STEP_W, STEP_W3, STEP_O], [], at(D + timedelta(days=2)), [STEP_O["key"]], []),
    ([STEP_W, STEP_W3, STEP_O], [STEP_W["key"]], at(D + timedelta(days=5)), [STEP_O["key"]], []),
    # R17: …and stays moot after the overdue fired (no late warning)
    ([STEP_W, STEP_O], [STEP_O["key"]], at(D + timedelta(days=3)), [], []),
    # R17: a threshold fires once
    ([STEP_W, STEP_O], [STEP_W["key"]], at(D, 12), [], [STEP_O["key"]]),
    ([STEP_W, STEP_O], [STEP_W["key"], STEP_O["key"]], at(D + timedelta(days=9)), [], []),
    # R17: a step's overdue does not silence the chain's warning (another clock)
    (
        [STEP_W, CHAIN_W, STEP_O, CHAIN_O],
        [],
        at(D + timedelta(days=2), 1),
        [CHAIN_W["key"], STEP_O["key"]],
        [CHAIN_O["key"]],
    ),
    # R17: chain and step both overdue
    (
        [STEP_W, CHAIN_W, STEP_O, CHAIN_O],
        [STEP_W["key"]],
        at(D + timedelta(days=11)),
        [STEP_O["key"], CHAIN_O["key"]],
        [],
    ),
    # R18: a paused clock keeps only an overdue already reached (thresholds_of drops the rest)
    ([STEP_O], [], at(D + timedelta(days=1)), [], [STEP_O["key"]]),
    ([STEP_O], [], at(D + timedelta(days=2)), [STEP_O["key"]], []),
    # R19: the missing items' due date missed; no window closes it
    ([STEP_W, MISSING], [STEP_W["key"]], at(D + timedelta(days=30)), [MISSING["key"]], []),
    ([MISSING, CHAIN_O], [], at(D + timedelta(days=3)), [MISSING["key"]], [CHAIN_O["key"]]),
    ([], [], at(D), [], []),
]


def seeded_cases(n: int) -> list[tuple[list[dict], list[str], datetime]]:
    """Spread cases (fixed seed): thresholds of one to three clocks, some fired, any moment."""
    rng = random.Random(16)
    out = []
    pool = [STEP_W, STEP_W3, STEP_O, CHAIN_W, CHAIN_O, MISSING]
    for _ in range(n):
        pending = sorted(rng.sample(pool, rng.randint(1, len(pool))), key=lambda t: t["ts"])
        fired = [t["key"] for t in pending if rng.random() < 0.25]
        now = at(D - timedelta(days=1)) + timedelta(hours=rng.randint(0, 14 * 24))
        out.append((pending, fired, now))
    return out


def split_keys(pending: list[dict], fired: list[str], now: datetime) -> tuple[list[str], list[str]]:
    due, ahead = split_due(pending, fired, now)
    return [t["key"] for t in due], [t["key"] for t in ahead]


def test_split_due_on_hand_worked_cases():
    # policy R17 / R18 / R19, issue 16: the rule as the hand-worked table says
    got = [split_keys(p, f, now) for p, f, now, _, _ in HAND_WORKED]
    assert got == [(due, ahead) for _, _, _, due, ahead in HAND_WORKED]


def case_row(pending: list[dict], fired: list[str], n: int) -> ApprovalCase:
    # as apply_clock leaves it: next_threshold_at at the earliest threshold kept
    stamp = clock_stamp()
    return ApprovalCase(
        id=uuid.uuid4(),
        project_id=uuid.uuid4(),
        project_code=f"2026-140000-44-01-{n:06d}",
        project_name="阈值规则对照",
        unit_id="town-chengguan",
        kind="low_risk_small",
        kind_name="低风险小型项目",
        steps=[],
        total_limit_days=20,
        warn_share=0.8,
        warn_days_left=3,
        supplement_window_days=5,
        agency_unit_ids=["dept-fgj"],
        missing_items=["环评批复"],
        thresholds=pending,
        fired=fired,
        next_threshold_at=datetime.fromisoformat(pending[0]["at"]) if pending else None,
        phase="running",
        state="running",
        current_step="project_filing",
        version=1,
        created_by="test",
        created_at=stamp,
        updated_at=stamp,
    )


def clock_stamp() -> datetime:
    return at(D - timedelta(days=10))


async def swept_keys(
    cases: list[tuple[list[dict], list[str], datetime]],
) -> list[tuple[list[str], list[str]]]:
    """Each case swept by the sweeper's statement at its moment (rolled back after)."""
    session = sessionmaker()()
    out = []
    try:
        rows = [case_row(p, f, n) for n, (p, f, _) in enumerate(cases)]
        session.add_all(rows)
        await session.flush()
        for row, (_, fired, now) in zip(rows, cases, strict=True):
            await sweep(session, now=now, case_id=row.id)
            await session.refresh(row, ["fired", "thresholds"])
            fired_now = row.fired[len(fired) :]
            out.append((fired_now, [t["key"] for t in row.thresholds if t["key"] not in row.fired]))
    finally:
        await session.rollback()
        await session.close()
    return out


async def test_sweeper_fires_as_the_hand_worked_cases_say():
    # policy R17 / R18 / R19, issue 16: the set-based sweep reads the same window
    got = await swept_keys([(p, f, now) for p, f, now, _, _ in HAND_WORKED])
    assert got == [(due, ahead) for _, _, _, due, ahead in HAND_WORKED]


async def test_sweeper_and_split_due_agree_on_a_spread_of_cases():
    # issue 16: one rule — the sweeper and split_due never differ, case by case
    cases = seeded_cases(150)
    expected: list[Any] = [split_keys(p, f, now) for p, f, now in cases]
    assert sum(1 for due, _ in expected if due) > 50  # the spread does reach thresholds
    assert await swept_keys(cases) == expected
