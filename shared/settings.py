"""Settings for every process, read from the environment with the ``KPP_`` prefix."""

from __future__ import annotations

import math
from collections import Counter
from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "kpp-dev-secret-change-me-0123456789abcdef"

SERVICE_PORTS = {"gateway": 8000, "registry": 8001, "approvals": 8002, "issues": 8003, "scoring": 8004}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KPP_", env_file=".env", extra="ignore")

    env: Literal["dev", "test", "prod"] = "dev"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/kpp"
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Signs the gateway's internal identity tokens and staff tokens.
    secret_key: str = DEV_SECRET
    internal_token_ttl_s: int = Field(120, ge=10, le=900)
    staff_token_ttl_s: int = Field(3600, ge=60)
    refresh_token_ttl_s: int = Field(7 * 24 * 3600, ge=600)
    # Where each service listens; the gateway and services use these to call each other.
    host: str = "127.0.0.1"
    # `make up` listens on port_base (gateway) .. port_base+4 (scoring)
    port_base: int = Field(8000, ge=1024, le=65000)
    # where `make up` keeps the embedded PostgreSQL and Valkey data
    data_dir: str = ".kpp"
    gateway_url: str = f"http://127.0.0.1:{SERVICE_PORTS['gateway']}"
    registry_url: str = f"http://127.0.0.1:{SERVICE_PORTS['registry']}"
    approvals_url: str = f"http://127.0.0.1:{SERVICE_PORTS['approvals']}"
    issues_url: str = f"http://127.0.0.1:{SERVICE_PORTS['issues']}"
    scoring_url: str = f"http://127.0.0.1:{SERVICE_PORTS['scoring']}"
    service_timeout_s: float = Field(10.0, gt=0)
    # connections per process, opened as needed and kept. SQLAlchemy closes an overflow
    # connection on return, so overflow under steady load means a reconnect (TCP, SSL
    # probe, type introspection) per request beyond the pool (issue 15: profiled on the
    # registry): the same ceiling of 20 as the old 15 + 5, all of it kept, none churned.
    db_pool_size: int = Field(20, ge=1)
    db_max_overflow: int = Field(0, ge=0)
    # bcrypt cost for staff passwords (tests lower it; production keeps >= 12)
    bcrypt_rounds: int = Field(12, ge=4, le=16)
    log_level: str = "INFO"
    log_json: bool = True
    # Business dates are dates in this zone (architecture: timestamps UTC, dates Asia/Shanghai).
    business_tz: str = "Asia/Shanghai"
    # Accepted clock skew for an event's occurred_at that lies in the future.
    max_clock_skew_s: int = 300
    # Event delivery (docs/events.md): a consumer's failing handler is retried after these
    # delays (seconds), then parked as a dead letter; so tries = 1 + len(delays).
    event_retry_delays_s: str = "5,30,120,600"
    # a delivery the consumer has not acknowledged after this long is re-sent
    event_redeliver_after_s: int = Field(30, ge=1)
    # published events all consumers acknowledged, and inbox rows, older than this are
    # pruned by the daily prune_events cron (docs/events.md)
    event_retention_days: int = Field(30, ge=1)

    # /metrics outside dev/test answers only a bearer of this token (empty: /metrics is 404)
    metrics_token: str = ""

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.env == "prod":
            problem = secret_problem(self.secret_key)
            if problem:
                raise ValueError(f"KPP_SECRET_KEY {problem} (KPP_ENV=prod)")
        return self

    def service_port(self, service: str) -> int:
        return self.port_base + SERVICE_PORTS[service] - SERVICE_PORTS["gateway"]

    def service_url(self, service: str) -> str:
        return getattr(self, f"{service}_url")


MIN_SECRET_BITS = 96  # a 32-character hex secret (128 real bits) estimates ~120


def secret_problem(secret: str) -> str | None:
    """Why ``secret`` is too weak to sign tokens, or None. Length alone let "a" * 32 pass:
    the estimate is length × the Shannon entropy of its own characters (bits), and a
    secret that mostly repeats itself at some period is refused too."""
    if secret == DEV_SECRET or len(secret) < 32:
        return "must be set to a private value of at least 32 characters"
    counts = Counter(secret)
    per_char = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values())
    n = len(secret)
    periodic = any(
        sum(secret[i] == secret[i + p] for i in range(n - p)) > (n - p) / 2 for p in range(1, n // 2 + 1)
    )  # "0123456789" * 4: a repeated pattern
    if len(counts) < 10 or per_char * n < MIN_SECRET_BITS or periodic:
        return (
            f"is too predictable (about {per_char * len(secret):.0f} bits; at least "
            f"{MIN_SECRET_BITS} needed): use e.g. `python -c 'import secrets; "
            f"print(secrets.token_urlsafe(32))'`"
        )
    return None


@lru_cache
def get_settings() -> Settings:
    return Settings()
