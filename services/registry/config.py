"""The registry's own settings (``KPP_REGISTRY_*``), each with a default.

Kept here rather than in ``shared.settings`` so the registry's knobs stay with the
registry; every value the policy leaves open is configurable (policy-rules.md, preamble).
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RegistrySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KPP_REGISTRY_", env_file=".env", extra="ignore")

    # policy R6: photos of progress reports, stored as files named by their SHA-256
    photo_dir: Path = Path(".kpp/registry-photos")
    photo_max_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    photo_types: tuple[str, ...] = ("image/jpeg", "image/png", "image/webp")
    # policy R7: project documents (approval replies, certificates, contracts), stored like photos
    document_dir: Path = Path(".kpp/registry-documents")
    document_max_bytes: int = Field(20 * 1024 * 1024, ge=1024)
    document_types: tuple[str, ...] = (
        "application/pdf",
        "application/ofd",
        "image/jpeg",
        "image/png",
        "image/webp",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    # policy R6: the month's report is due by this day of the following month
    report_deadline_day: int = Field(10, ge=1, le=28)
    # policy R13: warn this many days before the two-month limit runs out
    revocation_warning_days: int = Field(14, ge=0, le=60)
    revocation_months: int = Field(2, ge=1, le=24)
    # policy R9: year-end completion thresholds (percent of the construction task)
    r9_basic_completion_pct: Decimal = Decimal("100")
    r9_new_mid_pct: Decimal = Decimal("60")  # new projects 1,000–3,000万: not named, default 60 %
    r9_new_large_pct: Decimal = Decimal("60")
    r9_continued_large_pct: Decimal = Decimal("90")
    # policy R9: amount thresholds (万元): new ≤ 1,000 and continued ≤ 3,000 → basically
    # completed; new > 3,000 → r9_new_large_pct; new in between → r9_new_mid_pct
    r9_new_basic_max: Decimal = Decimal("1000")
    r9_continued_basic_max: Decimal = Decimal("3000")
    r9_new_large_above: Decimal = Decimal("3000")
    # policy R11 / R5 defaults when a plan does not declare its own
    county_start_rate_target: Decimal = Decimal("0.83")
    reserve_ratio_target: Decimal = Decimal("5")
    # policy R3: scale bands; 以上/以下 include the number (民法典 art. 1259), so a project of
    # exactly band_small_max is small and one of exactly band_large_min is large
    band_small_max: Decimal = Decimal("3000")
    band_large_min: Decimal = Decimal("5000")
    # policy R14: project codes (GB/T 40058-2021) — the earliest year accepted (the online
    # approval platform's codes start in 2015), and the check character test, off until the
    # standard's §4.7 algorithm is confirmed
    project_code_min_year: int = Field(2015, ge=1990)
    project_code_check_enabled: bool = False
    # xlsx import upper bound (rows)
    import_max_rows: int = Field(20_000, ge=1)


@lru_cache
def registry_settings() -> RegistrySettings:
    return RegistrySettings()
