"""One project read straight at the registry and through the gateway, side by side.

    .venv/bin/python -m bench.gateway_vs_direct [--seconds 10] [--concurrency 32] [--rounds 2]

Prints req/s and p99 for both and the ratio (target for the gateway: ≥ 0.6× throughput,
p99 ≤ 3× direct).
"""

from __future__ import annotations

import argparse
import asyncio
import os

import aiohttp

from bench.harness import bench_env, free_port, load, scratch_database, service_process


async def main(seconds: float, concurrency: int, rounds: int) -> None:
    async with scratch_database("gateway") as db_url:
        ports = {"gateway": free_port(), "registry": free_port()}
        env = bench_env(db_url, KPP_REGISTRY_URL=f"http://127.0.0.1:{ports['registry']}",
                        KPP_GATEWAY_URL=f"http://127.0.0.1:{ports['gateway']}")
        os.environ.update(env)  # this process signs identity tokens with the same settings
        from services.gateway import seed
        from shared.db import dispose_engine, job_session
        from shared.identity import Principal, Role, issue_identity_token

        async with job_session() as session:
            await seed.seed_demo(session)
        await dispose_engine()
        with service_process("registry", ports["registry"], env) as registry_url, \
                service_process("gateway", ports["gateway"], env) as gateway_url:
            async with aiohttp.ClientSession() as http:
                r = await http.post(f"{gateway_url}/api/v1/auth/token",
                                    data={"username": "zdb", "password": "Kpp@2026"})
                token = (await r.json())["access_token"]
                bearer = {"Authorization": f"Bearer {token}"}
                r = await http.post(f"{gateway_url}/api/v1/projects", headers=bearer, json={
                    "project_code": "2023-140000-44-01-000001", "name": "基准测试项目",
                    "unit_id": "town-chengguan", "category": "industrial",
                    "total_investment": "12000"})
                assert r.status == 201, await r.text()
                project_id = (await r.json())["id"]
            identity = {"X-KPP-Identity": issue_identity_token(
                Principal(subject="user:zdb", role=Role.key_office, unit_id="office-zdb"),
                ttl_s=900)}
            path = f"/api/v1/projects/{project_id}"
            # warm both paths (connections, caches)
            await load("warm", registry_url + path, headers=identity, seconds=1, concurrency=8)
            await load("warm", gateway_url + path, headers=bearer, seconds=1, concurrency=8)
            print(f"GET {path}  concurrency {concurrency}, {seconds:.0f} s per run, {rounds} rounds")
            ratios, p99s = [], []
            for i in range(rounds):
                direct = await load(f"direct registry #{i + 1}", registry_url + path,
                                    headers=identity, concurrency=concurrency, seconds=seconds)
                via = await load(f"through gateway #{i + 1}", gateway_url + path,
                                 headers=bearer, concurrency=concurrency, seconds=seconds)
                print(direct.line())
                print(via.line())
                ratios.append(via.rps / direct.rps)
                p99s.append(via.pct(99) / direct.pct(99))
            print(f"throughput ratio gateway/direct: {' '.join(f'{r:.2f}' for r in ratios)}"
                  f"  (mean {sum(ratios) / len(ratios):.2f}, target >= 0.60)")
            print(f"p99 ratio gateway/direct:        {' '.join(f'{r:.2f}' for r in p99s)}"
                  f"  (target <= 3.0)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.concurrency, args.rounds))
