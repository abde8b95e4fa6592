"""The gateway's own settings (``KPP_GATEWAY_*``), each with a default."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KPP_GATEWAY_", env_file=".env", extra="ignore")

    # signed requests: accepted clock skew and how long a nonce is remembered (> 2 × skew)
    max_skew_s: int = Field(300, ge=30)
    nonce_ttl_s: int = Field(900, ge=60)
    # requests per minute: per staff user, and per app key unless the key says otherwise
    user_rate_per_min: int = Field(1200, ge=1)
    app_rate_per_min: int = Field(600, ge=1)
    max_body_bytes: int = Field(20 * 1024 * 1024, ge=1024)
    # how long the gateway waits for a service before answering 504
    upstream_timeout_s: float = Field(10.0, gt=0)
    # the audit buffer is written every this many milliseconds, in one INSERT
    audit_flush_ms: int = Field(200, ge=10)
    audit_buffer_max: int = Field(100_000, ge=1000)
    # rows past audit_buffer_max (database away) and rows left at shutdown are kept here
    # and written when the database returns: the audit never drops a row (issue 14)
    audit_spill_path: str = ".kpp/gateway-audit-spill.jsonl"
    idempotency_ttl_s: int = Field(24 * 3600, ge=60)
    # a staff token's account (active, token_version) is read again at most this often:
    # the bound on how long a disabled or moved user's token keeps working (issue 14)
    account_recheck_s: float = Field(2.0, gt=0, le=60)
    # a write under an Idempotency-Key the client got a 504 for is still awaited this long,
    # so that its outcome (not a second run) answers the retry (issue 14)
    idempotency_settle_s: float = Field(300.0, gt=0)
    # webhook deliveries
    webhook_timeout_s: float = Field(10.0, gt=0)
    # comma-separated hosts (or host:port) webhooks may reach although they are loopback,
    # link-local or the platform's own services: development and tests only (issue 14)
    webhook_allowed_hosts: str = ""
    # how long a merged OpenAPI document is kept before the services are asked again
    openapi_ttl_s: int = Field(300, ge=1)


@lru_cache
def gateway_settings() -> GatewaySettings:
    return GatewaySettings()
