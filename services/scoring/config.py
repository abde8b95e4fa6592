"""The scoring service's own settings (``KPP_SCORING_*``); defaults are the policy's."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class ScoringSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KPP_SCORING_", env_file=".env", extra="ignore")

    # policy R28 (对两次通报未完成任务的责任单位负责人): "unit" counts a unit's notices for
    # unfinished tasks within the year, whichever tasks (2 → deputy head's summons, 3 →
    # principal leader's); "task" counts each assignment's notices on their own.
    summons_count: Literal["unit", "task"] = "unit"
    # policy R11: the start rate the bulletin's gauge is drawn against (83 %)
    start_rate_target: Decimal = Decimal("0.83")


@lru_cache
def scoring_settings() -> ScoringSettings:
    return ScoringSettings()
