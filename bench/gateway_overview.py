"""The 亮晒 overview on the demo county: one page load's API call, through the gateway.

    .venv/bin/python -m bench.gateway_overview [--seconds 10] [--concurrency 4]

GET /api/v1/overview?year=2023 fans out to five service reads (the plan summary, the
monthly trend, approvals, issues, scoring) concurrently; printed beside each of the five
reads alone, so the figure says whether the page costs its slowest read or their sum.
"""

from __future__ import annotations

import argparse
import asyncio
import os

import aiohttp

from bench.harness import bench_env, free_port, load, scratch_database, service_process

SERVICES = ("gateway", "registry", "approvals", "issues", "scoring")


async def main(seconds: float, concurrency: int) -> None:
    async with scratch_database("overview") as db_url:
        ports = {s: free_port() for s in SERVICES}
        env = bench_env(
            db_url,
            KPP_GATEWAY_USER_RATE_PER_MIN="100000000",
            **{f"KPP_{s.upper()}_URL": f"http://127.0.0.1:{p}" for s, p in ports.items()},
        )
        os.environ.update(env)
        from services.gateway import seed as gateway_seed
        from services.registry import seed as registry_seed
        from shared.db import dispose_engine, job_session

        for seed in (gateway_seed, registry_seed):
            async with job_session() as session:
                await seed.seed_demo(session)
        await dispose_engine()
        with (
            service_process("registry", ports["registry"], env),
            service_process("approvals", ports["approvals"], env),
            service_process("issues", ports["issues"], env),
            service_process("scoring", ports["scoring"], env),
            service_process("gateway", ports["gateway"], env) as gateway,
        ):
            async with aiohttp.ClientSession() as http:
                r = await http.post(
                    f"{gateway}/api/v1/auth/token", data={"username": "zdb", "password": "Kpp@2026"}
                )
                bearer = {"Authorization": f"Bearer {(await r.json())['access_token']}"}
            print(f"demo county, year 2023; {concurrency} concurrent clients, {seconds:.0f} s each")
            for label, path in (
                ("overview (all five)", "/api/v1/overview?year=2023"),
                ("plan summary", "/api/v1/plans/2023/summary"),
                ("monthly trend", "/api/v1/plans/2023/monthly"),
                ("approvals overview", "/api/v1/approval-cases/overview?year=2023"),
                ("issues overview", "/api/v1/issues/overview?year=2023"),
                ("scoring overview", "/api/v1/bulletins/overview?year=2023"),
            ):
                result = await load(
                    label, gateway + path, headers=bearer, concurrency=concurrency, seconds=seconds
                )
                print(result.line())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.concurrency))
