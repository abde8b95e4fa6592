"""Service-hall event intake at the approvals service (target ≥ 1,000 events/s, issue 15).

    .venv/bin/python -m bench.approvals_intake [--cases 1500] [--concurrency C] [--batch N]
                                               [--profile]

Without ``--batch`` it runs twice, each time on fresh cases: one event per request over 32
connections, then batches of 20 over 8. ``--batch N`` (N > 1) sends the hall's
queue as it would batch it: each request carries the next event of each of N cases
(``POST /api/v1/approval-cases/events``, one transaction, answered event by event);
latencies are then per request, counted once per event.

``--profile`` records the service with py-spy during the load (as ``bench.profile``) and
prints where its samples went.

Runs the approvals API with uvicorn on a free port against a scratch database, bulk-opens
``--cases`` low_risk_small cases, then posts each case's events in order (submitted,
accepted, then for each later step its application ``accepted`` after the previous
``step_completed`` (policy R16: the time between is the applicant's), completed: nine per
case) with the cases interleaved over
``--concurrency`` connections (aiohttp), identity header from issue_identity_token.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

from bench.harness import PIDS, bench_env, cpu_seconds, free_port, scratch_database, service_process
from bench.profile import py_spy, read_stacks, record, summarise

STEPS = ["project_filing", "construction_permit", "completion_acceptance"]


def script(case_id: str) -> list[dict]:
    days = [
        "2026-11-02",
        "2026-11-02",
        "2026-11-04",
        "2026-11-05",
        "2026-11-10",
        "2026-11-11",
        "2026-11-16",
        "2026-11-17",
        "2026-11-19",
    ]
    types = [
        "submitted",
        "accepted",
        "step_completed",
        "accepted",
        "step_completed",
        "accepted",
        "step_completed",
        "accepted",
        "completed",
    ]
    out = []
    done = 0
    for i, (t, d) in enumerate(zip(types, days, strict=True)):
        ev = {"event_id": f"{case_id}:{i}", "type": t, "occurred_at": f"{d}T{9 + i:02d}:00:00+08:00"}
        if t == "step_completed":
            ev["step_code"] = STEPS[done]
            done += 1
        out.append(ev)
    return out


async def open_cases(n: int) -> list[str]:
    from datetime import UTC, datetime

    from services.approvals.calendar_store import seed_official_years
    from services.approvals.kinds import ensure_builtin_kinds, get_kind
    from services.approvals.models import ApprovalCase
    from shared.db import dispose_engine, job_session

    ids = []
    async with job_session() as s:
        await seed_official_years(s)
        await ensure_builtin_kinds(s)
        kind = await get_kind(s, "low_risk_small")
        now = datetime.now(UTC)
        for i in range(n):
            cid = uuid.uuid4()
            ids.append(str(cid))
            s.add(
                ApprovalCase(
                    id=cid,
                    project_id=uuid.uuid4(),
                    project_code=f"2026-140000-44-01-{i:06d}",
                    # as a case opened through the API has them (from the registry's project)
                    project_name=f"基准审批项目{i}",
                    unit_id="town-chengguan",
                    kind=kind.code,
                    kind_name=kind.name,
                    steps=kind.steps,
                    total_limit_days=kind.total_limit_days,
                    warn_share=kind.warn_share,
                    warn_days_left=kind.warn_days_left,
                    supplement_window_days=kind.supplement_window_days,
                    agency_unit_ids=["dept-fgj", "dept-zjj", "dept-zrzy"],
                    missing_items=[],
                    thresholds=[],
                    fired=[],
                    phase="new",
                    state="new",
                    version=1,
                    created_by="bench",
                    created_at=now,
                    updated_at=now,
                )
            )
    await dispose_engine()
    return ids


async def main(
    cases: int, modes: list[tuple[int, int]], profile: bool = False, keep: str | None = None
) -> None:
    """One scratch database and one service; for each (batch, concurrency) mode its own
    ``cases`` fresh cases."""
    async with scratch_database("approvals_intake") as db_url:
        env = bench_env(db_url, KPP_DB_POOL_SIZE=str(max(10, max(c for _, c in modes) // 2)))
        os.environ.update(env)
        from shared.identity import Principal, Role, issue_identity_token

        token = issue_identity_token(
            Principal(subject="bench-hall", role=Role.platform, name="政务服务大厅"), ttl_s=900
        )
        headers = {"X-KPP-Identity": token}
        with service_process("approvals", free_port(), env) as url:
            for batch, concurrency in modes:
                ids = await open_cases(cases)
                await load(url, headers, ids, batch, concurrency, profile, keep)


async def load(
    url: str,
    headers: dict[str, str],
    ids: list[str],
    batch: int,
    concurrency: int,
    profile: bool,
    keep: str | None,
) -> None:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for cid in ids:
        queue.put_nowait(cid)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def one_by_one() -> None:
            while not queue.empty():
                cid = queue.get_nowait()
                for ev in script(cid):
                    t = time.perf_counter()
                    async with http.post(
                        f"{url}/api/v1/approval-cases/{cid}/events", json=ev, headers=headers
                    ) as r:
                        await r.read()
                        statuses[r.status] = statuses.get(r.status, 0) + 1
                    latencies.append((time.perf_counter() - t) * 1000)

        async def in_batches() -> None:
            # the hall's queue: the next event of each of `batch` cases per request
            while not queue.empty():
                cids = [queue.get_nowait() for _ in range(min(batch, queue.qsize()))]
                for step in zip(*(script(cid) for cid in cids), strict=True):
                    events = [ev | {"case_id": cid} for cid, ev in zip(cids, step, strict=True)]
                    t = time.perf_counter()
                    async with http.post(
                        f"{url}/api/v1/approval-cases/events", json={"events": events}, headers=headers
                    ) as r:
                        reply = await r.json()
                    for item in reply["results"]:
                        statuses[item["status"]] = statuses.get(item["status"], 0) + 1
                    latencies.extend([(time.perf_counter() - t) * 1000] * len(events))

        worker = one_by_one if batch == 1 else in_batches
        spy = None
        if profile:
            out = Path(tempfile.mkstemp(suffix=".txt")[1])
            spy = (await record(py_spy(), PIDS[url], None, out), out)
        cpu_before, started = cpu_seconds(PIDS[url]), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        service_cpu = cpu_seconds(PIDS[url]) - cpu_before
        if spy is not None:
            spy[0].send_signal(signal.SIGINT)  # py-spy writes its file on ^C
            await spy[0].wait()
    n = len(latencies)
    latencies.sort()
    how = "one event per request" if batch == 1 else f"batches of {batch} events"
    print(
        f"{n:,} events for {len(ids):,} cases in {elapsed:.2f} s = {n / elapsed:,.0f} events/s "
        f"(concurrency {concurrency}, {how}); p50 {statistics.median(latencies):.1f} ms, "
        f"p99 {latencies[int(n * 0.99)]:.1f} ms; statuses {statuses}; "
        f"service CPU {service_cpu / n * 1000:.2f} ms per event; target >= 1,000 events/s",
        flush=True,
    )
    if spy is not None:
        print(summarise(read_stacks(spy[1])))
        if keep:
            spy[1].replace(keep)
        else:
            spy[1].unlink()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=1500)
    ap.add_argument("--concurrency", type=int, help="connections (default 32 one by one, 8 in batches)")
    ap.add_argument("--batch", type=int, help="events per request (>1: POST /api/v1/approval-cases/events)")
    ap.add_argument("--profile", action="store_true", help="py-spy the service during the load")
    ap.add_argument("--keep", help="with --profile: keep the collapsed stacks in this file")
    args = ap.parse_args()
    batches = [args.batch] if args.batch else [1, 20]
    modes = [(b, args.concurrency or (32 if b == 1 else 8)) for b in batches]
    asyncio.run(main(args.cases, modes, args.profile, args.keep))
