"""Start-up checks that fail with one clear line instead of a traceback."""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import urlparse

import asyncpg
from redis.asyncio import Redis


class PreflightError(SystemExit):
    def __init__(self, message: str) -> None:
        super().__init__(f"kpp: {message}")


def describe_db(url: str) -> str:
    """host:port/db of a database URL, never its password."""
    parsed = urlparse(url.replace("+asyncpg", ""))
    if parsed.hostname:
        return f"{parsed.hostname}:{parsed.port or 5432}{parsed.path}"
    return f"{parsed.query.removeprefix('host=')}{parsed.path}"


def describe_redis(url: str) -> str:
    parsed = urlparse(url)
    return f"{parsed.hostname}:{parsed.port or 6379}"


async def check_database(url: str) -> None:
    try:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"), timeout=5)
        await conn.close()
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise PreflightError(
            f"无法连接数据库 PostgreSQL {describe_db(url)}（{type(exc).__name__}: {exc}）"
        ) from None


async def check_redis(url: str) -> None:
    client = Redis.from_url(url, socket_connect_timeout=3)
    try:
        await client.ping()
    except Exception as exc:
        raise PreflightError(f"无法连接 Redis {describe_redis(url)}（{type(exc).__name__}）") from None
    finally:
        await client.aclose()


def check_services(database_url: str, redis_url: str) -> None:
    async def both() -> None:
        await check_database(database_url)
        await check_redis(redis_url)

    asyncio.run(both())


def check_port_free(host: str, port: int, what: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            raise PreflightError(f"端口 {host}:{port} 已被占用，{what} 无法启动") from None
