"""Every service's migrations upgrade, downgrade, and match its models."""

from __future__ import annotations

import asyncio
import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from ops import migrate
from tests.conftest import ADMIN_URL
from tests.servers import create_database, drop_database, with_database


@pytest.fixture(scope="module")
def scratch_url():
    name = asyncio.run(create_database(ADMIN_URL))
    yield with_database(ADMIN_URL, name).replace("postgresql://", "postgresql+asyncpg://")
    asyncio.run(drop_database(ADMIN_URL, name))


def _inspect(url: str, fn):
    async def run():
        engine = create_async_engine(url, poolclass=NullPool)
        async with engine.connect() as conn:
            result = await conn.run_sync(fn)
        await engine.dispose()
        return result

    return asyncio.run(run())


def _diff(url: str, service: str) -> list:
    metadata = importlib.import_module(f"services.{service}.models").Base.metadata

    def compare(conn):
        ctx = MigrationContext.configure(
            conn,
            opts={
                "include_schemas": True,
                "include_name": lambda name, type_, parents: type_ != "schema" or name == service,
                "compare_type": True,
                "version_table_schema": service,
            },
        )
        return compare_metadata(ctx, metadata)

    return _inspect(url, compare)


def _tables(url: str, service: str) -> set[str]:
    return _inspect(url, lambda conn: set(inspect(conn).get_table_names(schema=service)))


@pytest.mark.parametrize("service", migrate.SERVICES_WITH_SCHEMA)
def test_migrations_upgrade_match_models_and_downgrade(scratch_url, service):
    migrate.upgrade(service, scratch_url)
    assert _diff(scratch_url, service) == [], "models and migrations differ"
    assert "alembic_version" in _tables(scratch_url, service)  # version table in its own schema
    migrate.downgrade(service, scratch_url)
    assert _tables(scratch_url, service) == {"alembic_version"}
    migrate.upgrade(service, scratch_url)  # and up again, from nothing
    assert _diff(scratch_url, service) == []
