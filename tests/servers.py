"""Finding real PostgreSQL and Redis for the tests: given URLs, the local ones, or embedded."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_urls(env: dict[str, str]) -> tuple[str, str]:
    """(postgres admin URL, redis URL) without a database name chosen yet."""
    pg = env.get("KPP_TEST_DATABASE_URL")
    redis = env.get("KPP_TEST_REDIS_URL")
    # KPP_TEST_EMBEDDED=1 takes the path of a machine without local servers
    local = env.get("KPP_TEST_EMBEDDED") != "1"
    if not pg:
        if local and answers("127.0.0.1", 5432):
            pg = "postgresql://postgres@127.0.0.1:5432/postgres"
        else:
            from ops.embedded import start_embedded_postgres

            pg = start_embedded_postgres(ROOT / ".kpp" / "test-pgdata").replace("+asyncpg", "")
    if not redis:
        if local and answers("127.0.0.1", 6379):
            redis = "redis://127.0.0.1:6379/15"
        else:
            from ops.embedded import start_embedded_valkey

            redis = start_embedded_valkey(ROOT / ".kpp" / "test-valkey", persist=False)
    return pg.replace("postgresql+asyncpg://", "postgresql://"), redis


def with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    base = base.rsplit("/", 1)[0] + "/" + name
    return base + (f"?{query}" if query else "")


async def create_database(admin_url: str) -> str:
    name = f"kpp_test_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name


async def drop_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
