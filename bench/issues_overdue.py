"""The overdue list at 100 k problems, measured at the service (target p99 ≤ 50 ms).

    .venv/bin/python -m bench.issues_overdue [--problems 100000] [--seconds 4] [--concurrency 8]

Runs the issues API in a subprocess on a scratch database and calls
``GET /api/v1/issues?overdue=true`` (first page of 50, with the total) directly with an
internal identity token, as the key office and as one department, one client at a
time (the service's own latency) and 8 at once (queueing on a 2-core machine).
"""

from __future__ import annotations

import argparse
import asyncio
import os


async def main(n: int, seconds: float, concurrency: int) -> None:
    from bench.harness import bench_env, free_port, load, service_process
    from bench.issues_common import issues_database

    async with issues_database(n) as url:
        port = free_port()
        # no approvals service here: the calendar falls back to the built-in official years
        env = bench_env(url, KPP_APPROVALS_URL=f"http://127.0.0.1:{free_port()}")
        os.environ.update(env)
        from shared.identity import Principal, Role, issue_identity_token

        who = {
            "key office": Principal(subject="user:zdb", role=Role.key_office, unit_id="office-zdb"),
            "department dept-fgj": Principal(subject="user:fgj", role=Role.department, unit_id="dept-fgj"),
        }
        with service_process("issues", port, env) as base:
            for label, principal in who.items():
                headers = {"X-KPP-Identity": issue_identity_token(principal, ttl_s=900)}
                target = f"{base}/api/v1/issues?overdue=true&page_size=50"
                await load("warm", target, headers=headers, seconds=2, concurrency=4)
                for path, name in (
                    (target, "overdue, page 1"),
                    (target + "&page=100", "overdue, page 100"),
                    (target + "&unit=town-donghe", "overdue, one unit"),
                ):
                    for conc in sorted({1, concurrency}):
                        result = await load(
                            f"{label}: {name} (c={conc})",
                            path,
                            headers=headers,
                            seconds=seconds,
                            concurrency=conc,
                        )
                        print(result.line())


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--problems", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.problems, args.seconds, args.concurrency))
