"""The project read through the gateway against the bare anchor, with wrk (issue 15).

    .venv/bin/python -m bench.gateway_anchor [--seconds 10] [--connections 32] [--rounds 3]

Starts, in one run and against one scratch database, the anchor (``bench/anchor.py``:
FastAPI + asyncpg), the registry and the gateway in front of it, all under the same
uvicorn command, and loads each side in turn with wrk (``-t2``, loopback only), the same
``GET /api/v1/projects/{id}`` of one project:

- anchor: ``SELECT * … WHERE id = $1`` → JSON;
- direct: the registry, with the identity token the gateway sends;
- gateway-bearer: a staff user's bearer token;
- gateway-signed: a platform's signed request, every request with its own nonce (headers
  signed beforehand, so the client spends no CPU on them): a full signature check, one
  Redis script (nonce + rate limit) and one audit row each.

Prints req/s, p50 and p99 per round, the CPU each KPP process spent per request (user +
system from ``/proc``: where the time of a forwarded read goes), and each side's
throughput against the anchor (target: the gateway, bearer and signed, ≥ 0.4×) and
against the direct read.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp

from bench import wrk
from bench.gateway_vs_direct import signed_headers_pool
from bench.harness import (
    PIDS,
    bench_env,
    cpu_seconds,
    free_port,
    office_identity,
    scratch_database,
    service_process,
)
from bench.stack_overhead import make_projects

TARGET = 0.4
SIDES = ("anchor", "direct", "gateway-bearer", "gateway-signed")


async def _callers() -> tuple[str, str, str]:
    """A key-office user of the bench's own (not ``zdb``: its rate-limit window in Redis is
    the tests' too) and a platform key allowed to read projects: (username, password,
    the key's secret)."""
    from services.gateway import seed
    from services.gateway.accounts import create_user
    from services.gateway.appkeys import create_app_key
    from shared.db import dispose_engine, job_session
    from shared.identity import SYSTEM_PRINCIPAL, Principal, Role

    admin = Principal(subject="user:admin", role=Role.admin, name="基准测试")
    username = f"bench-{uuid.uuid4().hex[:8]}"
    async with job_session() as session:
        await seed.seed_demo(session)
        _, password = await create_user(
            session,
            principal=admin,
            data={"username": username, "name": "基准测试", "role": "key_office", "unit_id": "office-zdb"},
        )
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
    return username, password, secret


def _ratios(name: str, ours: list[wrk.WrkResult], base: list[wrk.WrkResult], target: float | None) -> str:
    r = [o.rps / b.rps for o, b in zip(ours, base, strict=True)]
    line = f"{name:<34} {' '.join(f'{x:.2f}' for x in r)} (median {statistics.median(r):.2f}"
    return line + (f", target >= {target})" if target else ")")


@dataclass
class Side:
    """One way to the project: its URL and the headers of each request."""

    url: str
    headers: dict[str, str]
    signed: tuple[str, str, str] | None = None  # (app key, secret, path): sign per request

    async def run(self, label: str, seconds: float, connections: int) -> wrk.WrkResult:
        if self.signed is None:
            return await wrk.run(
                label, self.url, headers=self.headers, seconds=seconds, connections=connections
            )
        # more pre-signed requests than the fastest side could make
        pool = signed_headers_pool(*self.signed, int(6000 * seconds) + 1000)
        return await wrk.run(
            label, self.url, headers={}, header_sets=pool, seconds=seconds, connections=connections
        )


@contextlib.asynccontextmanager
async def sides() -> AsyncIterator[dict[str, Side]]:
    """A scratch database with one project; the anchor, the registry and the gateway running."""
    async with scratch_database("gwanchor", services=("registry", "gateway")) as db_url:
        [project_id] = await make_projects(db_url, 1)
        ports = {"gateway": free_port(), "registry": free_port()}
        env = bench_env(
            db_url,
            KPP_REGISTRY_URL=f"http://127.0.0.1:{ports['registry']}",
            KPP_GATEWAY_URL=f"http://127.0.0.1:{ports['gateway']}",
            KPP_GATEWAY_USER_RATE_PER_MIN="100000000",
        )
        os.environ.update(env)  # this process signs tokens and requests with the same settings
        username, password, secret = await _callers()
        identity = office_identity()
        path = f"/api/v1/projects/{project_id}"
        with (
            service_process("anchor", free_port(), env, app="bench.anchor:app") as anchor,
            service_process("registry", ports["registry"], env) as registry,
            service_process("gateway", ports["gateway"], env) as gateway,
        ):
            async with aiohttp.ClientSession() as http:
                r = await http.post(
                    f"{gateway}/api/v1/auth/token", data={"username": username, "password": password}
                )
                bearer = {"Authorization": f"Bearer {(await r.json())['access_token']}"}
            yield {
                "anchor": Side(anchor + path, {}),
                "direct": Side(registry + path, identity),
                "gateway-bearer": Side(gateway + path, bearer),
                "gateway-signed": Side(gateway + path, {}, ("bench-province", secret, path)),
            }


async def main(seconds: float, connections: int, rounds: int) -> None:
    if not wrk.available():
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    async with sides() as ways:
        results: dict[str, list[wrk.WrkResult]] = {side: [] for side in SIDES}
        for k in range(rounds + 1):  # round 0 warms every side (connections, caches)
            label = f"#{k}" if k else "(warm)"
            for side in SIDES:
                # the KPP processes: the registry (direct's URL) and the gateway
                pids = {
                    process: PIDS[ways[way].url.split("/api/", 1)[0]]
                    for process, way in (("registry", "direct"), ("gateway", "gateway-bearer"))
                }
                before = {name: cpu_seconds(pid) for name, pid in pids.items()}
                r = await ways[side].run(f"{side} {label}", seconds if k else 2, connections)
                spent = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
                cpu = ""
                if side != "anchor" and r.requests:
                    cpu = "  CPU/request: registry {:.2f} ms, gateway {:.2f} ms".format(
                        *(1000 * spent[process] / r.requests for process in ("registry", "gateway"))
                    )
                print(r.line() + cpu, flush=True)
                if k:
                    results[side].append(r)
        print(f"wrk -t2 -c{connections} -d{seconds:.0f}s, {rounds} rounds; GET {ways['anchor'].url}")
        for side in SIDES[1:]:
            target = TARGET if "gateway" in side else None
            print(_ratios(f"{side} / anchor", results[side], results["anchor"], target))
        for side in SIDES[2:]:
            print(_ratios(f"{side} / direct", results[side], results["direct"], None))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.connections, args.rounds))
