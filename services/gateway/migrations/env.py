from services.gateway.models import Base
from shared.migrations_env import run_migrations_env

run_migrations_env(Base.metadata, "gateway")
