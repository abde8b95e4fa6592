"""Committed events → consumer effects, end to end (issue 11: ≥ 2,000 events/s).

    flock /tmp/kpp/bench.lock .venv/bin/python -m bench.events_pipeline [--events 50000]
        [--per-commit 500] [--rate 0]

A scratch database (all services migrated), its own Redis db (KPP_BENCH_REDIS_URL, flushed
first), and ONE real worker process per service involved (`python -m ops.cli worker
registry|scoring|gateway`), all on loopback. The producer commits ``project.created``
events (the registry's contract, ``--per-commit`` to a transaction, ``--rate`` events/s or
as fast as it can) into the registry's outbox; the registry worker relays them, scoring
records a ProjectFact per event and the gateway fans it out to webhooks — each consumer
inserting its inbox row in the transaction of its effect. A poller sees each inbox row
once committed: latency = consumer commit seen − producer commit (± the 100 ms poll).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid

from bench.harness import REDIS_URL, ROOT, bench_env, scratch_database

CONSUMERS = ("scoring", "gateway")
POLL_S = 0.1


def template() -> dict:
    from shared.contracts.registry import ProjectCreatedV1

    now = "2026-03-02T01:00:00+00:00"
    return ProjectCreatedV1.model_validate(
        {
            "id": str(uuid.uuid4()),
            "project_code": "2026-140000-44-01-000001",
            "code_form": "gbt40058",
            "name": "压测项目",
            "unit_id": "town-donghe",
            "carrying_unit_name": "东河新材料有限公司",
            "carrying_unit_credit_code": None,
            "contact_leader": None,
            "team": None,
            "work_plan": None,
            "follow_owner": None,
            "category": "industrial",
            "total_investment": "5200.0000",
            "government_investment": False,
            "scale_band": "large",
            "libraries": [],
            "stage": "signed",
            "stage_dates": {"signed": "2026-03-02"},
            "start_conditions_met_on": None,
            "approval_kind": None,
            "approval_level": None,
            "approval_authority": None,
            "planned_start": "2026-06-01",
            "planned_finish": None,
            "actual_start": None,
            "operation_started_on": None,
            "capacity_reached_on": None,
            "tags": [],
            "major_industrial": False,
            "milestones": [],
            "targets": [],
            "latest_progress": None,
            "revocation": {"state": None, "due_on": None, "revoked_on": None},
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
    ).payload()


async def produce(total: int, per_commit: int, rate: float, committed: dict) -> None:
    from sqlalchemy import insert

    from services.registry.models import pipeline
    from shared.db import job_session

    base = template()
    outbox = pipeline.tables.outbox
    started = time.perf_counter()
    for start in range(0, total, per_commit):
        n = min(per_commit, total - start)
        rows = []
        for i in range(start, start + n):
            pid = str(uuid.uuid4())
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "type": "project.created",
                    "key": pid,
                    "payload": base | {"id": pid, "project_code": f"2026-140000-44-01-{i:06d}"},
                }
            )
        async with job_session() as session:
            await session.execute(insert(outbox), rows)
        at = time.perf_counter()
        for r in rows:
            committed[str(r["id"])] = at
        if rate:
            ahead = started + (start + n) / rate - time.perf_counter()
            if ahead > 0:
                await asyncio.sleep(ahead)


async def watch(consumer: str, committed: dict, total: int, seen: dict, deadline: float) -> None:
    from sqlalchemy import text

    from shared.db import get_engine

    sql = text(f"SELECT event_id::text FROM {consumer}.inbox WHERE event_id = ANY(CAST(:ids AS uuid[]))")
    while len(seen) < total and time.perf_counter() < deadline:
        # the oldest pending (consumers go roughly in order): a late sighting only overstates
        pending = [i for i in committed if i not in seen][:5_000]
        if pending:
            async with get_engine().connect() as conn:
                got = (await conn.execute(sql, {"ids": pending})).scalars().all()
            at = time.perf_counter()
            for event_id in got:
                seen[event_id] = at
        await asyncio.sleep(POLL_S)


def pct(data: list[float], p: float) -> float:
    data = sorted(data)
    return data[min(len(data) - 1, int(len(data) * p / 100))] if data else float("nan")


async def main(total: int, per_commit: int, rate: float, timeout_s: float) -> None:
    async with scratch_database("events_pipeline") as db_url:
        env = bench_env(db_url)
        os.environ.update(env)
        from redis.asyncio import Redis

        from shared.db import dispose_engine

        redis = Redis.from_url(REDIS_URL)
        await redis.flushdb()  # the bench's own Redis db: no job of an earlier run
        await redis.aclose()
        workers = [
            subprocess.Popen(  # noqa: ASYNC220
                [sys.executable, "-m", "ops.cli", "worker", s],
                cwd=ROOT,
                env=env,
            )
            for s in ("registry", *CONSUMERS)
        ]
        try:
            await asyncio.sleep(3)  # workers connected
            committed: dict[str, float] = {}
            seen: dict[str, dict[str, float]] = {c: {} for c in CONSUMERS}
            t0 = time.perf_counter()
            deadline = t0 + timeout_s
            watchers = [asyncio.create_task(watch(c, committed, total, seen[c], deadline)) for c in CONSUMERS]
            await produce(total, per_commit, rate, committed)
            produced = time.perf_counter() - t0
            await asyncio.gather(*watchers)
            print(
                f"events committed: {total} in {produced:.1f} s "
                f"({total / produced:,.0f} events/s offered, {per_commit} per commit)"
            )
            for c in CONSUMERS:
                lat = [(seen[c][i] - committed[i]) * 1000 for i in seen[c]]
                last = max(seen[c].values(), default=t0)
                print(
                    f"{c:<8} consumed {len(seen[c])}/{total}: "
                    f"{len(seen[c]) / (last - t0):,.0f} events/s end to end, latency "
                    f"p50 {pct(lat, 50):,.0f} ms  p99 {pct(lat, 99):,.0f} ms  "
                    f"max {max(lat, default=float('nan')):,.0f} ms  "
                    f"mean {statistics.fmean(lat) if lat else float('nan'):,.0f} ms"
                )
            both = min(len(seen[c]) for c in CONSUMERS)
            done = max(max(seen[c].values(), default=t0) for c in CONSUMERS)
            print(
                f"pipeline: {both} events to both consumers in {done - t0:.1f} s = "
                f"{both / (done - t0):,.0f} events/s (one worker per service)"
            )
            from sqlalchemy import text

            from shared.db import get_engine

            async with get_engine().connect() as conn:
                facts = await conn.scalar(text("SELECT count(*) FROM scoring.project_facts"))
                dead = sum(
                    [await conn.scalar(text(f"SELECT count(*) FROM {c}.dead_letter")) for c in CONSUMERS]
                )
            print(f"effects: {facts} scoring facts for {total} events, {dead} dead letters")
        finally:
            for w in workers:
                w.terminate()
            for w in workers:
                try:
                    w.wait(10)
                except subprocess.TimeoutExpired:
                    w.kill()
            await dispose_engine()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=50_000)
    ap.add_argument("--per-commit", type=int, default=500)
    ap.add_argument("--rate", type=float, default=0, help="events/s offered (0: flat out)")
    ap.add_argument("--timeout", type=float, default=600)
    a = ap.parse_args()
    asyncio.run(main(a.events, a.per_commit, a.rate, a.timeout))
