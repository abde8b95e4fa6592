"""One project read straight at the registry and through the gateway, side by side.

    .venv/bin/python -m bench.gateway_vs_direct [--seconds 10] [--concurrency 32] [--rounds 2]

Three ways through the gateway: a staff bearer token, and a platform's signed request
(HMAC-SHA256 over method, path, sorted query, timestamp, nonce and body digest; a fresh
nonce each time, so every request costs a signature check, one Redis script (nonce SET NX
+ rate-limit INCR), and one audit row). Prints req/s and p99 for each and the ratios to
the direct read (target: ≥ 0.6× throughput, p99 ≤ 3× direct). Both services run under
the same uvicorn command (``harness.service_process``): uvloop and httptools when
installed (``uvicorn[standard]``), for both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os

import aiohttp

from bench.harness import bench_env, free_port, load, office_identity, scratch_database, service_process


def signed_headers_pool(key: str, secret: str, path: str, n: int) -> list[dict[str, str]]:
    """Pre-signed headers (fresh nonces): the load generator spends no CPU on signing."""
    from services.gateway.crypto import signed_headers

    return [signed_headers(key, secret, "GET", path) for _ in range(n)]


async def main(seconds: float, concurrency: int, rounds: int) -> None:
    async with scratch_database("gateway") as db_url:
        ports = {"gateway": free_port(), "registry": free_port()}
        env = bench_env(
            db_url,
            KPP_REGISTRY_URL=f"http://127.0.0.1:{ports['registry']}",
            KPP_GATEWAY_URL=f"http://127.0.0.1:{ports['gateway']}",
            KPP_GATEWAY_USER_RATE_PER_MIN="100000000",
        )
        os.environ.update(env)  # this process signs identity tokens with the same settings
        from services.gateway import seed
        from services.gateway.appkeys import create_app_key
        from shared.db import dispose_engine, job_session
        from shared.identity import SYSTEM_PRINCIPAL

        async with job_session() as session:
            await seed.seed_demo(session)
            _, secret = await create_app_key(
                session,
                principal=SYSTEM_PRINCIPAL,
                name="基准测试平台",
                platform="province",
                scopes=["registry:read"],
                rate_limit_per_min=100_000_000,
                key="bench-province",
            )
        await dispose_engine()
        with (
            service_process("registry", ports["registry"], env) as registry_url,
            service_process("gateway", ports["gateway"], env) as gateway_url,
        ):
            async with aiohttp.ClientSession() as http:
                r = await http.post(
                    f"{gateway_url}/api/v1/auth/token", data={"username": "zdb", "password": "Kpp@2026"}
                )
                token = (await r.json())["access_token"]
                bearer = {"Authorization": f"Bearer {token}"}
                r = await http.post(
                    f"{gateway_url}/api/v1/projects",
                    headers=bearer,
                    json={
                        "project_code": "2023-140000-44-01-000001",
                        "name": "基准测试项目",
                        "unit_id": "town-chengguan",
                        "category": "industrial",
                        "total_investment": "12000",
                    },
                )
                assert r.status == 201, await r.text()
                project_id = (await r.json())["id"]
            identity = office_identity(ttl_s=900)
            path = f"/api/v1/projects/{project_id}"

            def signed_source(n: int):
                pool = iter(signed_headers_pool("bench-province", secret, path, n))
                return lambda: next(pool)

            # warm every path (connections, caches)
            await load("warm", registry_url + path, headers=identity, seconds=1, concurrency=8)
            await load("warm", gateway_url + path, headers=bearer, seconds=1, concurrency=8)
            await load(
                "warm",
                gateway_url + path,
                headers={},
                seconds=1,
                concurrency=8,
                headers_for=signed_source(20_000),
            )
            impl = [m for m in ("uvloop", "httptools") if importlib.util.find_spec(m)]
            print(
                f"GET {path}  concurrency {concurrency}, {seconds:.0f} s per run, {rounds} rounds;"
                f" uvicorn with {' + '.join(impl) or 'asyncio + h11'} for both services"
            )
            ratios: dict[str, list[float]] = {"bearer": [], "signed": []}
            p99s: dict[str, list[float]] = {"bearer": [], "signed": []}
            for i in range(rounds):
                direct = await load(
                    f"direct registry #{i + 1}",
                    registry_url + path,
                    headers=identity,
                    concurrency=concurrency,
                    seconds=seconds,
                )
                bear = await load(
                    f"gateway, bearer #{i + 1}",
                    gateway_url + path,
                    headers=bearer,
                    concurrency=concurrency,
                    seconds=seconds,
                )
                sig = await load(
                    f"gateway, signed #{i + 1}",
                    gateway_url + path,
                    headers={},
                    concurrency=concurrency,
                    seconds=seconds,
                    headers_for=signed_source(int(direct.rps * seconds * 1.5) + 1000),
                )
                for result in (direct, bear, sig):
                    print(result.line())
                for name, via in (("bearer", bear), ("signed", sig)):
                    ratios[name].append(via.rps / direct.rps)
                    p99s[name].append(via.pct(99) / direct.pct(99))
            for name in ("bearer", "signed"):
                r, p = ratios[name], p99s[name]
                print(
                    f"{name:>6}: throughput gateway/direct {' '.join(f'{x:.2f}' for x in r)}"
                    f" (mean {sum(r) / len(r):.2f}, target >= 0.60);"
                    f" p99 gateway/direct {' '.join(f'{x:.2f}' for x in p)} (target <= 3.0)"
                )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.concurrency, args.rounds))
