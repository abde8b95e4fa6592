"""Why the service-to-service client is aiohttp: httpx's pool vs aiohttp's connector.

    .venv/bin/python -m bench.service_client [--seconds 5] [--concurrency 32]

The same GET /healthz of a service (uvicorn, one process) from 32 concurrent tasks:
straight with aiohttp (as shared.http.ServiceClient does), and with httpx.AsyncClient.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx

from bench.harness import LoadResult, bench_env, free_port, load, scratch_database, service_process


async def load_httpx(url: str, concurrency: int, seconds: float) -> LoadResult:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits) as client:
        stop_at = time.perf_counter() + seconds

        async def one() -> None:
            nonlocal errors
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                r = await client.get(url)
                errors += r.status_code >= 400
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return LoadResult("httpx.AsyncClient", len(latencies), errors, elapsed, latencies)


async def main(seconds: float, concurrency: int) -> None:
    async with scratch_database("client") as db_url:
        env = bench_env(db_url)
        with service_process("registry", free_port(), env) as url:
            await load("warm", url + "/healthz", headers={}, seconds=1, concurrency=4)
            aio = await load(
                "aiohttp (ServiceClient)",
                url + "/healthz",
                headers={},
                concurrency=concurrency,
                seconds=seconds,
            )
            hx = await load_httpx(url + "/healthz", concurrency, seconds)
            print(f"GET /healthz, {concurrency} concurrent tasks, {seconds:.0f} s each")
            print(aio.line())
            print(hx.line())
            print(f"httpx / aiohttp throughput: {hx.rps / aio.rps:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.concurrency))
