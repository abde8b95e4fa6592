"""The whole platform under mixed load through the gateway (target: 0 errors, 0 events lost).

    flock /tmp/kpp/bench.lock .venv/bin/python -m bench.mixed_load [--seconds 60]
        [--connections 64] [--projects 400]

Issue 15. One scratch database (every service migrated, the demo data seeded), its own
Redis db (KPP_BENCH_REDIS_URL, flushed first), the gateway and the four services under
uvicorn and one worker per service (relay, consumers, jobs), all on loopback. Setup makes
``--projects`` projects, an approval case for each and some issues through the gateway;
then ``--connections`` connections send requests back to back through the gateway for
``--seconds`` as the key office (bearer token; ``--pool-size`` database connections per
API, two per worker: 50 in all by default): 80 % reads across the four services, 20 %
writes (monthly progress reports, service-hall case events, new issues). Prints
throughput, p50/p99 and errors per path, then waits for the event pipeline and checks
that every event the run committed reached every subscribed consumer's inbox.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

from bench.approvals_intake import script as hall_events
from bench.harness import (
    REDIS_URL,
    ROOT,
    LoadResult,
    bench_env,
    free_port,
    scratch_database,
    service_process,
    worker_processes,
)
from bench.stack_overhead import report_body

SERVICES = ("gateway", "registry", "approvals", "issues", "scoring")
REPORT_ROUNDS = 12  # report_body(0..11): every other month of 2025-01 … 2026-11
DRAIN_TIMEOUT_S = 180
WORKER_POOL_SIZE = 2


@dataclass
class Fixtures:
    """What the setup made: ids to read and write, and the rotation state of the writes."""

    projects: list[str]
    cases: list[str]
    issues: list[str]
    reports: int = 0  # next (project, month) to report: project = n % len, round = n // len
    case_queue: list[str] = field(default_factory=list)
    issues_made: int = 0


@dataclass
class Op:
    name: str
    weight: int
    make: Callable[[Fixtures, random.Random, dict], tuple[str, str, dict | None] | None]


def _hall_event(fx: Fixtures, rng: random.Random, conn: dict) -> tuple[str, str, dict] | None:
    """The connection's current case's next event, in order (a case belongs to one
    connection until its nine events are in)."""
    pending = conn.setdefault("hall", [])
    if not pending:
        if not fx.case_queue:
            return None
        case = fx.case_queue.pop()
        pending.extend((case, ev) for ev in hall_events(case))
    case, ev = pending.pop(0)
    return "POST", f"/api/v1/approval-cases/{case}/events", ev


def _progress(fx: Fixtures, rng: random.Random, conn: dict) -> tuple[str, str, dict] | None:
    n = fx.reports
    if n >= len(fx.projects) * REPORT_ROUNDS:
        return None
    fx.reports += 1
    _, body = report_body(n // len(fx.projects))
    return "POST", f"/api/v1/projects/{fx.projects[n % len(fx.projects)]}/progress", json.loads(body)


def _new_issue(fx: Fixtures, rng: random.Random, conn: dict) -> tuple[str, str, dict]:
    fx.issues_made += 1
    return "POST", "/api/v1/issues", issue_body(rng.choice(fx.projects), fx.issues_made)


OPS = [
    # reads: 80
    Op("GET project", 24, lambda fx, rng, c: ("GET", f"/api/v1/projects/{rng.choice(fx.projects)}", None)),
    Op("GET projects?page", 8, lambda fx, rng, c: ("GET", "/api/v1/projects?page_size=20", None)),
    Op(
        "GET project progress",
        6,
        lambda fx, rng, c: ("GET", f"/api/v1/projects/{rng.choice(fx.projects)}/progress", None),
    ),
    Op(
        "GET approval case",
        14,
        lambda fx, rng, c: ("GET", f"/api/v1/approval-cases/{rng.choice(fx.cases)}", None),
    ),
    Op("GET issue", 12, lambda fx, rng, c: ("GET", f"/api/v1/issues/{rng.choice(fx.issues)}", None)),
    Op(
        "GET issues?project",
        4,
        lambda fx, rng, c: ("GET", f"/api/v1/issues?project_id={rng.choice(fx.projects)}", None),
    ),
    Op("GET assignments", 6, lambda fx, rng, c: ("GET", "/api/v1/assignments", None)),
    Op("GET assessments year", 6, lambda fx, rng, c: ("GET", "/api/v1/assessments/year/2026", None)),
    # writes: 20
    Op("POST progress report", 8, _progress),
    Op("POST approval event", 8, _hall_event),
    Op("POST issue", 4, _new_issue),
]


def issue_body(project_id: str, n: int) -> dict:
    return {
        "project_id": project_id,
        "kind": "land",
        "description": f"压测问题{n}：用地指标尚未落实",
        "source": "enterprise_report",
    }


def project_body(i: int) -> dict:
    return {
        "project_code": f"2023-140000-44-01-{900000 + i:06d}",
        "name": f"混合负载项目{i}",
        "unit_id": "town-chengguan",
        "category": "industrial",
        "total_investment": "12000",
    }


async def make_fixtures(http: aiohttp.ClientSession, gateway: str, projects: int) -> Fixtures:
    """Projects, one approval case each and a few issues, through the gateway (16 at a time)."""
    gate = asyncio.Semaphore(16)

    async def post(path: str, body: dict) -> str:
        async with gate, http.post(gateway + path, json=body) as r:
            if r.status != 201:
                raise RuntimeError(f"setup POST {path}: {r.status} {await r.text()}")
            return (await r.json())["id"]

    pids = await asyncio.gather(*(post("/api/v1/projects", project_body(i)) for i in range(projects)))
    cases = await asyncio.gather(
        *(post("/api/v1/approval-cases", {"project_id": p, "kind": "low_risk_small"}) for p in pids)
    )
    issues = await asyncio.gather(
        *(post("/api/v1/issues", issue_body(p, -i)) for i, p in enumerate(pids[: max(10, projects // 10)]))
    )
    return Fixtures(list(pids), list(cases), list(issues), case_queue=list(cases))


async def run_load(
    http: aiohttp.ClientSession, gateway: str, fx: Fixtures, connections: int, seconds: float
) -> tuple[dict[str, LoadResult], list[str]]:
    latencies: dict[str, list[float]] = {op.name: [] for op in OPS}
    errors: dict[str, int] = {op.name: 0 for op in OPS}
    samples: list[str] = []
    stop_at = time.perf_counter() + seconds

    async def connection(k: int) -> None:
        rng = random.Random(k)
        state: dict = {}
        while time.perf_counter() < stop_at:
            op = rng.choices(OPS, weights=[o.weight for o in OPS])[0]
            request = op.make(fx, rng, state)
            if request is None:  # this write's fixtures are used up: read instead
                op = OPS[0]
                request = op.make(fx, rng, state)
            method, path, body = request
            started = time.perf_counter()
            try:
                async with http.request(method, gateway + path, json=body) as r:
                    text = await r.text()
                    failed = r.status >= 400
            except aiohttp.ClientError as exc:
                failed, text = True, repr(exc)
            latencies[op.name].append((time.perf_counter() - started) * 1000)
            if failed:
                errors[op.name] += 1
                if len(samples) < 10:
                    samples.append(f"{method} {path}: {text[:300]}")

    started = time.perf_counter()
    await asyncio.gather(*(connection(k) for k in range(connections)))
    elapsed = time.perf_counter() - started
    results = {
        name: LoadResult(name, len(lat), errors[name], elapsed, lat) for name, lat in latencies.items() if lat
    }
    return results, samples


async def undelivered(since_seq: dict[str, int]) -> tuple[int, int, int]:
    """(deliveries owed, deliveries applied, dead letters) for the events committed after
    ``since_seq`` (each producer's outbox ``seq``), one inbox row per subscribed consumer."""
    from sqlalchemy import text

    from shared.db import get_engine
    from shared.events import SUBSCRIPTIONS

    owed = applied = dead = 0
    async with get_engine().connect() as conn:
        for producer, seq in since_seq.items():
            consumers = sorted({c for subs in SUBSCRIPTIONS.values() for c in subs})
            for consumer in consumers:
                types = [t for t, subs in SUBSCRIPTIONS.items() if consumer in subs]
                sql = text(
                    f"SELECT count(*) AS owed, count(i.event_id) AS applied, count(d.event_id) AS dead"
                    f" FROM {producer}.outbox o"
                    f" LEFT JOIN {consumer}.inbox i ON i.event_id = o.id"
                    f" LEFT JOIN {consumer}.dead_letter d ON d.event_id = o.id"
                    f" WHERE o.seq > :seq AND o.type = ANY(:types)"
                )
                row = (await conn.execute(sql, {"seq": seq, "types": types})).one()
                owed, applied, dead = owed + row.owed, applied + row.applied, dead + row.dead
    return owed, applied, dead


async def outbox_marks() -> dict[str, int]:
    from sqlalchemy import text

    from shared.db import get_engine

    async with get_engine().connect() as conn:
        return {
            s: await conn.scalar(text(f"SELECT coalesce(max(seq), 0) FROM {s}.outbox"))
            for s in ("registry", "approvals", "issues", "scoring")
        }


async def main(seconds: float, connections: int, projects: int, pool_size: int) -> None:
    async with scratch_database("mixed") as db_url:
        ports = {s: free_port() for s in SERVICES}
        env = bench_env(
            db_url,
            **{f"KPP_{s.upper()}_URL": f"http://127.0.0.1:{p}" for s, p in ports.items()},
            KPP_GATEWAY_USER_RATE_PER_MIN="100000000",
            KPP_DB_POOL_SIZE=str(pool_size),
            KPP_DB_MAX_OVERFLOW="0",
        )
        # ten processes share PostgreSQL's max_connections: the workers' jobs take few
        worker_env = env | {"KPP_DB_POOL_SIZE": str(WORKER_POOL_SIZE)}
        os.environ.update(env)
        from redis.asyncio import Redis

        from shared.db import dispose_engine

        redis = Redis.from_url(REDIS_URL)
        await redis.flushdb()  # the bench's own Redis db: no job or cache of an earlier run
        await redis.aclose()
        seed = [sys.executable, "-m", "ops.cli", "seed"]
        await asyncio.to_thread(subprocess.run, seed, cwd=ROOT, env=env, check=True)
        with contextlib.ExitStack() as stack:
            urls = {s: stack.enter_context(service_process(s, p, env)) for s, p in ports.items()}
            stack.enter_context(worker_processes(SERVICES, worker_env))
            gateway = urls["gateway"]
            connector = aiohttp.TCPConnector(limit=connections)
            async with aiohttp.ClientSession(connector=connector) as http:
                async with http.post(
                    f"{gateway}/api/v1/auth/token", data={"username": "zdb", "password": "Kpp@2026"}
                ) as r:
                    token = (await r.json())["access_token"]
                http.headers["Authorization"] = f"Bearer {token}"
                t = time.perf_counter()
                fx = await make_fixtures(http, gateway, projects)
                print(
                    f"setup: {len(fx.projects)} projects, {len(fx.cases)} approval cases, "
                    f"{len(fx.issues)} issues through the gateway in {time.perf_counter() - t:.1f} s"
                )
                marks = await outbox_marks()
                results, samples = await run_load(http, gateway, fx, connections, seconds)
            total = sum(r.requests for r in results.values())
            errors = sum(r.errors for r in results.values())
            elapsed = max(r.seconds for r in results.values())
            writes = sum(r.requests for name, r in results.items() if name.startswith("POST"))
            for r in results.values():
                print(r.line())
            for s in samples:
                print("  error:", s)
            t = time.perf_counter()
            while True:
                owed, applied, dead = await undelivered(marks)
                if applied + dead >= owed or time.perf_counter() - t > DRAIN_TIMEOUT_S:
                    break
                await asyncio.sleep(1)
            drained = time.perf_counter() - t
            await dispose_engine()
        every = LoadResult(
            "all", total, errors, elapsed, [x for r in results.values() for x in r.latencies_ms]
        )
        print(
            f"mixed load: {connections} connections through the gateway, {elapsed:.0f} s: "
            f"{total / elapsed:,.0f} req/s ({100 * writes / max(total, 1):.0f} % writes), "
            f"p50 {every.pct(50):.0f} ms, p99 {every.pct(99):.0f} ms; errors {errors} (target 0)"
        )
        print(
            f"events: {owed} deliveries owed by the run's commits, {applied} applied within "
            f"{drained:.0f} s after the load, {dead} dead letters; lost {owed - applied} (target 0)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--projects", type=int, default=400)
    parser.add_argument("--pool-size", type=int, default=8, help="database connections per API process")
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.connections, args.projects, args.pool_size))
