"""`python -m ops.cli …`: migrate, seed, serve one service, run one worker, or `up` all."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys

from ops.migrate import SERVICES_WITH_SCHEMA
from shared.settings import SERVICE_PORTS, get_settings


def cmd_migrate(args: argparse.Namespace) -> None:
    from ops import migrate

    for service in args.services or SERVICES_WITH_SCHEMA:
        migrate.upgrade(service)
        print(f"migrated {service}")


def cmd_revision(args: argparse.Namespace) -> None:
    from alembic import command

    from ops.migrate import alembic_config

    command.revision(alembic_config(args.service), message=args.message, autogenerate=True)


async def _seed() -> None:
    from shared.db import dispose_engine, job_session
    from shared.settings import get_settings

    if get_settings().env not in ("dev", "test"):
        # demo accounts (admin / Kpp@2026) and demo app secrets are for development only
        print(f"demo data: not loaded (KPP_ENV={get_settings().env})")
        return
    for service in SERVICES_WITH_SCHEMA:
        try:
            module = importlib.import_module(f"services.{service}.seed")
        except ModuleNotFoundError:
            continue
        async with job_session() as session:
            loaded = await module.seed_demo(session)
        print(f"demo data {service}: {'loaded' if loaded else 'already there'}")
    await dispose_engine()


def cmd_seed(args: argparse.Namespace) -> None:
    asyncio.run(_seed())


async def _create_admin(username: str, name: str) -> str:
    from services.gateway import accounts
    from shared.db import job_session
    from shared.identity import SYSTEM_PRINCIPAL

    async with job_session() as session:
        _, password = await accounts.create_user(
            session,
            principal=SYSTEM_PRINCIPAL,
            data={"username": username, "name": name, "role": "admin", "reason": "命令行创建首个管理员"},
        )
    return password


def cmd_create_admin(args: argparse.Namespace) -> None:
    """The first administrator of a production install (no demo data there): audited."""
    from shared.db import dispose_engine

    async def run() -> str:
        try:
            return await _create_admin(args.username, args.name)
        finally:
            await dispose_engine()

    password = asyncio.run(run())
    print(f"管理员 {args.username} 已创建，临时密码（仅显示一次）：{password}")


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from ops.preflight import check_port_free, check_services

    settings = get_settings()
    port = args.port or settings.service_port(args.service)
    check_port_free(settings.host, port, args.service)
    check_services(settings.database_url, settings.redis_url)
    uvicorn.run(
        f"services.{args.service}.app:app",
        host=settings.host,
        port=port,
        log_level="warning",
        access_log=False,
        workers=args.workers,
    )


def cmd_worker(args: argparse.Namespace) -> None:
    from ops.preflight import check_services

    settings = get_settings()
    check_services(settings.database_url, settings.redis_url)
    try:
        module = importlib.import_module(f"services.{args.service}.worker")
    except ModuleNotFoundError:
        sys.exit(f"kpp: {args.service} 没有后台任务进程（worker）")
    from ops.worker_run import run_service_workers

    asyncio.run(run_service_workers(module))


def cmd_up(args: argparse.Namespace) -> None:
    from ops.devrun import run_platform

    sys.exit(run_platform())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="kpp", description="KPP 重点项目建设管理平台")
    sub = parser.add_subparsers(required=True)
    p = sub.add_parser("migrate", help="apply every service's migrations (or the named ones)")
    p.add_argument("services", nargs="*", choices=[*SERVICES_WITH_SCHEMA, []])
    p.set_defaults(func=cmd_migrate)
    p = sub.add_parser("revision", help="autogenerate a migration for one service")
    p.add_argument("service", choices=SERVICES_WITH_SCHEMA)
    p.add_argument("-m", "--message", required=True)
    p.set_defaults(func=cmd_revision)
    sub.add_parser("seed", help="load the demo data set if not there").set_defaults(func=cmd_seed)
    p = sub.add_parser("create-admin", help="create an administrator (prints a temporary password)")
    p.add_argument("username")
    p.add_argument("name")
    p.set_defaults(func=cmd_create_admin)
    p = sub.add_parser("serve", help="run one service's API")
    p.add_argument("service", choices=list(SERVICE_PORTS))
    p.add_argument("--port", type=int)
    p.add_argument("--workers", type=int, default=1)
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("worker", help="run one service's arq worker")
    p.add_argument("service", choices=list(SERVICE_PORTS))
    p.set_defaults(func=cmd_worker)
    sub.add_parser("up", help="the whole platform").set_defaults(func=cmd_up)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
