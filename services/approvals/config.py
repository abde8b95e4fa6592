"""The approvals service's own settings (``KPP_APPROVALS_*``); defaults are the policy's."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.approvals.clock_types import STATUTORY_PAUSES


class ApprovalsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KPP_APPROVALS_", env_file=".env", extra="ignore")

    # R17: warning at this share of a limit and at N working days left
    warn_share: float = Field(0.8, gt=0, lt=1)
    warn_days_left: int = Field(3, ge=0, le=30)
    # R18: a 补正 request later than this many working days after receipt is refused and the
    # application counts as accepted (Administrative Licensing Law art. 32)
    supplement_window_days: int = Field(5, ge=1, le=30)
    # R18: pause reasons that stop the clock (code → name); default 行政许可法 art. 45.
    # Anything else (e.g. 公示) keeps the clock running unless an administrator adds it here
    # (KPP_APPROVALS_PAUSE_REASONS='{"public_notice": "公示", ...}').
    pause_reasons: dict[str, str] = Field(default_factory=lambda: dict(STATUTORY_PAUSES))
    # R19: project types that may be accepted with missing documents / on credit commitment
    tolerance_project_types: list[str] = ["park_industrial", "transport_infrastructure"]
    # R19: how the registry's record makes a project one of those types: category industrial
    # with one of these tags is a park industrial project (园区工业项目), category
    # infrastructure with one of those a transport infrastructure project (交通基础设施项目)
    park_tags: list[str] = ["园区"]
    transport_tags: list[str] = ["交通"]
    # R20: a key project (in the registry's key library) is flagged for the fast track when
    # its case opens
    key_projects_fast_track: bool = True
    # R16: the policy ceiling of the low-risk small project chain
    low_risk_small_total_days: int = 20
    # the sweeper schedules exact deferred jobs for thresholds this far ahead
    schedule_horizon_s: int = Field(900, ge=60)
    sweep_batch: int = Field(20000, ge=100)
    # recompute the deadlines of at most this many open cases per calendar change per batch
    recompute_batch: int = Field(2000, ge=100)


@lru_cache
def approvals_settings() -> ApprovalsSettings:
    return ApprovalsSettings()
