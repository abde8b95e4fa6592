"""Applying each service's migrations (its own Alembic environment, see
``shared.migrations_env``) from the command line, the tests and the benchmarks."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from shared.settings import get_settings

SERVICES_WITH_SCHEMA = ("gateway", "registry", "approvals", "issues", "scoring")
SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"


def alembic_config(service: str, database_url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    cfg.set_main_option("sqlalchemy.url", database_url or get_settings().database_url)
    cfg.attributes["service"] = service
    return cfg


def upgrade(service: str, database_url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(service, database_url), revision)


def downgrade(service: str, database_url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(service, database_url), revision)


def upgrade_all(database_url: str | None = None) -> None:
    for service in SERVICES_WITH_SCHEMA:
        upgrade(service, database_url)
