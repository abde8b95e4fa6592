"""What a KPP request costs over the bare stack beneath it (issue 15).

    .venv/bin/python -m bench.stack_overhead [--seconds 10] [--connections 32] [--rounds 3]

Starts, in one run and against one scratch database, the anchor (``bench/anchor.py``:
FastAPI + asyncpg and nothing else) and the registry service, both under the same uvicorn
command, and loads each in turn with the same client (wrk, ``-t2``, loopback only):

- read: ``GET /api/v1/projects/{id}`` of one project (the registry with the identity
  token the gateway would send; the anchor ``SELECT * … WHERE id = $1`` → JSON);
- write: ``POST /api/v1/projects/{id}/progress``, each request a different project (the
  registry's whole report path: lock, checks, report, audit row, outbox event, one commit;
  the anchor an ``INSERT … RETURNING`` plus an outbox row in one transaction).

Prints req/s, p50 and p99 per round and the ratios to the anchor against the targets:
read ≥ 0.6× throughput and p99 ≤ 2×; write ≥ 0.5× throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import uuid
from decimal import Decimal

import asyncpg

from bench import wrk
from bench.harness import ADMIN_URL, bench_env, free_port, office_identity, scratch_database, service_process

READ_TARGET, READ_P99_TARGET, WRITE_TARGET = 0.6, 2.0, 0.5


async def make_projects(db_url: str, n: int) -> list[uuid.UUID]:
    """``n`` township projects straight into the table (setup, not the path measured)."""
    dsn = ADMIN_URL.rsplit("/", 1)[0] + "/" + db_url.rsplit("/", 1)[1]
    ids = [uuid.uuid4() for _ in range(n)]
    conn = await asyncpg.connect(dsn)
    try:
        await conn.copy_records_to_table(
            "projects",
            schema_name="registry",
            columns=[
                "id",
                "project_code",
                "name",
                "unit_id",
                "category",
                "total_investment",
                "government_investment",
                "scale_band",
                "lib_tags",
                "stage",
                "stage_dates",
                "tags",
                "major_industrial",
                "version",
                "carrying_unit_name",
                "planned_start",
            ],
            records=[
                (
                    pid,
                    f"2023-140000-44-01-{i:06d}",
                    f"基准测试项目{i}",
                    "town-chengguan",
                    "industrial",
                    Decimal("12000"),
                    False,
                    "large",
                    ["annual"],
                    "started",
                    "{}",
                    ["基准"],
                    False,
                    1,
                    "山西示范新材料有限公司",
                    None,
                )
                for i, pid in enumerate(ids)
            ],
        )
    finally:
        await conn.close()
    return ids


def report_body(k: int) -> tuple[str, str]:
    """Round ``k``'s month (every other month of 2025, so no month follows the one before:
    R6's "previous cumulative + this month" check needs no chain) and its JSON body."""
    month = f"{2025 + (2 * k) // 12}-{(2 * k) % 12 + 1:02d}"
    return month, json.dumps(
        {
            "month": month,
            "investment_month": "10",
            "cumulative_investment": str(10 * (k + 1)),
            "progress_pct": str(k + 1),
        }
    )


def ratio_line(
    name: str, ours: list[wrk.WrkResult], anchor: list[wrk.WrkResult], target: float, p99_target: float | None
) -> str:
    r = [o.rps / a.rps for o, a in zip(ours, anchor, strict=True)]
    p = [o.p99_ms / a.p99_ms for o, a in zip(ours, anchor, strict=True)]
    line = (
        f"{name}: throughput registry/anchor {' '.join(f'{x:.2f}' for x in r)} "
        f"(median {statistics.median(r):.2f}, target >= {target}); p99 registry/anchor "
        f"{' '.join(f'{x:.2f}' for x in p)} (median {statistics.median(p):.2f}"
    )
    return line + (f", target <= {p99_target})" if p99_target else ")")


async def main(seconds: float, connections: int, rounds: int) -> None:
    if not wrk.available():
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    async with scratch_database("stack", services=("registry",)) as db_url:
        n = 30_000
        ids = await make_projects(db_url, n)
        env = bench_env(db_url, KPP_REGISTRY_URL="http://127.0.0.1:9")
        os.environ.update(env)  # this process signs the identity token with the same secret
        identity = office_identity()
        read_path = f"/api/v1/projects/{ids[0]}"
        with (
            service_process("anchor", free_port(), env, app="bench.anchor:app") as anchor,
            service_process("registry", free_port(), env) as registry,
        ):
            sides = {"anchor": anchor, "registry": registry}
            results: dict[str, list[wrk.WrkResult]] = {
                f"{w} {s}": [] for w in ("read", "write") for s in sides
            }
            # per side, one path per project: a registry report is refused for a month
            # already reported, so each write of a round takes the next project
            half = n // 2
            write_paths = {
                "anchor": [f"/api/v1/projects/{i}/progress" for i in ids[:half]],
                "registry": [f"/api/v1/projects/{i}/progress" for i in ids[half:]],
            }
            for k in range(rounds + 1):  # round 0 warms both sides (connections, caches)
                _, body = report_body(k)
                label = f"#{k}" if k else "(warm)"
                secs = seconds if k else 2
                for side, url in sides.items():
                    r = await wrk.run(
                        f"read {side} {label}",
                        url + read_path,
                        headers=identity,
                        seconds=secs,
                        connections=connections,
                    )
                    w = await wrk.run(
                        f"write {side} {label}",
                        url,
                        headers=identity,
                        seconds=secs,
                        connections=connections,
                        paths=write_paths[side],
                        body=body,
                    )
                    if k:
                        results[f"read {side}"].append(r)
                        results[f"write {side}"].append(w)
                    print(r.line())
                    print(w.line())
            print(
                f"wrk -t2 -c{connections} -d{seconds:.0f}s, {rounds} rounds; "
                f"read GET {read_path}; write POST …/progress"
            )
            print(
                ratio_line(
                    "read ", results["read registry"], results["read anchor"], READ_TARGET, READ_P99_TARGET
                )
            )
            print(ratio_line("write", results["write registry"], results["write anchor"], WRITE_TARGET, None))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.connections, args.rounds))
