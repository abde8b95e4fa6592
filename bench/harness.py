"""The benchmark harness: scratch databases, services in subprocesses, a load generator.

Benchmarks are programs, not tests: each prints its figures; none asserts a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("KPP_BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("KPP_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


# base URL → pid of the uvicorn process serving it (for profilers)
PIDS: dict[str, int] = {}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.asynccontextmanager
async def scratch_database(name: str, services: tuple[str, ...] | None = None) -> AsyncIterator[str]:
    """A fresh database with the services' migrations applied (all by default); dropped after."""
    from ops import migrate

    db = f"kpp_bench_{name}_{uuid.uuid4().hex[:6]}"
    conn = await asyncpg.connect(ADMIN_URL)
    await conn.execute(f'CREATE DATABASE "{db}"')
    await conn.close()
    url = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{db}"
    try:
        for service in services or migrate.SERVICES_WITH_SCHEMA:
            await asyncio.to_thread(migrate.upgrade, service, url)
        yield url
    finally:
        conn = await asyncpg.connect(ADMIN_URL)
        await conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await conn.close()


def bench_env(database_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        KPP_ENV="test",
        KPP_DATABASE_URL=database_url,
        KPP_REDIS_URL=REDIS_URL,
        KPP_LOG_LEVEL="WARNING",
        KPP_BCRYPT_ROUNDS="4",
        **extra,
    )
    return env


def office_identity(ttl_s: int = 3600) -> dict[str, str]:
    """The identity header the gateway sends for the demo key office (zdb), for benches that
    call a service directly. Imported late: bench_env must have set the secrets first."""
    from shared.identity import IDENTITY_HEADER, Principal, Role, issue_identity_token

    principal = Principal(subject="user:zdb", role=Role.key_office, unit_id="office-zdb", name="重点办")
    return {IDENTITY_HEADER: issue_identity_token(principal, ttl_s=ttl_s)}


@contextlib.contextmanager
def service_process(service: str, port: int, env: dict[str, str], *, app: str | None = None) -> Iterator[str]:
    """Run one service's API (or ``app``, "module:attr") with uvicorn in a subprocess;
    yields its base URL."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            app or f"services.{service}.app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    PIDS[url] = proc.pid
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(f"{service} exited with {proc.returncode}") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@dataclass
class LoadResult:
    label: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, p: float) -> float:
        data = sorted(self.latencies_ms)
        return data[min(len(data) - 1, int(len(data) * p / 100))] if data else float("nan")

    def line(self) -> str:
        return (
            f"{self.label:<28} {self.rps:9.1f} req/s  p50 {self.pct(50):7.2f} ms  "
            f"p99 {self.pct(99):7.2f} ms  mean {statistics.fmean(self.latencies_ms):6.2f} ms  "
            f"errors {self.errors}"
        )


async def load(
    label: str,
    url: str,
    *,
    headers: dict[str, str],
    concurrency: int = 32,
    seconds: float = 10.0,
    method: str = "GET",
    body: bytes | None = None,
    headers_for=None,
) -> LoadResult:
    """``concurrency`` connections issuing requests back to back for ``seconds``."""
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)

    async with aiohttp.ClientSession(connector=connector) as session:

        async def one_connection() -> None:
            nonlocal errors
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                hdrs = headers_for() if headers_for else headers
                async with session.request(method, url, headers=hdrs, data=body) as resp:
                    await resp.read()
                    if resp.status >= 400:
                        errors += 1
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(one_connection() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return LoadResult(label, len(latencies), errors, elapsed, latencies)


@contextlib.contextmanager
def worker_processes(services: tuple[str, ...], env: dict[str, str]) -> Iterator[None]:
    """One arq worker per service (``python -m ops.cli worker <svc>``: its relay, consumer
    and jobs), stopped (SIGTERM, then kill after 10 s) when the block ends."""
    procs = [
        subprocess.Popen([sys.executable, "-m", "ops.cli", "worker", s], cwd=ROOT, env=env) for s in services
    ]
    try:
        yield
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (``/proc``: steadier than req/s on a
    shared machine)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
