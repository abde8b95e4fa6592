"""add_working_days in process (shared.calendar), target ≥ 100 k computations/s.

.venv/bin/python -m bench.approvals_calendar [--n 500000]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import date, timedelta

from shared.calendar import default_calendar


def main(n: int) -> None:
    cal = default_calendar()
    rng = random.Random(15)
    starts = [date(2024, 1, 1) + timedelta(days=rng.randrange(0, 365 * 3)) for _ in range(n)]
    days = [rng.randrange(1, 60) for _ in range(n)]
    cal.add_working_days(date(2024, 1, 1), 1)  # build the year arrays once
    t0 = time.perf_counter()
    for s, d in zip(starts, days, strict=True):
        cal.add_working_days(s, d)
    add_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for s, d in zip(starts, days, strict=True):
        cal.working_days_between(s, s + timedelta(days=d))
    between_s = time.perf_counter() - t0
    print(f"add_working_days      {n / add_s:12,.0f} /s  ({n:,} in {add_s:.3f} s)")
    print(f"working_days_between  {n / between_s:12,.0f} /s  ({n:,} in {between_s:.3f} s)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=500_000)
    main(ap.parse_args().n)
