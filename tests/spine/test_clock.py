"""The one clock (architecture: "One clock"): business dates, a set clock, and no code that
reads the wall clock behind its back."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, date, datetime, timedelta

from shared import clock
from tests.servers import ROOT


def test_business_date_is_shanghai_not_utc(clock_at):
    # 16:30 UTC on New Year's Eve is 00:30 on 1 January in Shanghai (UTC+8, no DST)
    clock_at(datetime(2026, 12, 31, 16, 30, tzinfo=UTC), tick=False)
    assert clock.now() == datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    assert clock.today() == date(2027, 1, 1)
    clock_at(datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC), tick=False)
    assert clock.today() == date(2026, 12, 31)


def test_a_set_clock_ticks_and_advances_and_frozen_restores(clock_at):
    clock_at(date(2028, 2, 29))  # a date means 09:00 in Shanghai = 01:00 UTC
    first = clock.now()
    assert first.replace(microsecond=0) == datetime(2028, 2, 29, 1, 0, tzinfo=UTC)
    assert clock.now() >= first  # ticking: timestamps written one after another stay ordered
    clock.advance(timedelta(days=1))
    assert clock.today() == date(2028, 3, 1)
    with clock.frozen(datetime(2030, 6, 1, 4, 0, tzinfo=UTC), tick=False):
        assert clock.today() == date(2030, 6, 1)
    assert clock.today() == date(2028, 3, 1)


def test_the_wall_clock_is_read_in_one_place():
    # architecture: a grep for wall-clock reads outside shared/clock.py finds nothing in the
    # platform's code (durations use time.monotonic / perf_counter, which are not readings)
    pattern = r"datetime\.now\(|date\.today\(|time\.time\(|datetime\.utcnow\("
    out = subprocess.run(
        ["git", "grep", "-nE", pattern, "--", "services", "shared", "ops", ":!shared/clock.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode in (0, 1), out.stderr
    assert out.stdout == "", f"wall-clock reads outside shared/clock.py:\n{out.stdout}"
    assert re.search(pattern, "x = datetime.now(UTC)")  # the pattern itself finds one


def test_every_timestamp_default_comes_from_the_clock():
    # architecture: schema defaults that need the time go through the clock; the database's
    # now() stays only as the server default for rows written outside the ORM
    import importlib

    from sqlalchemy import DateTime

    missing = []
    for service in ("registry", "approvals", "issues", "scoring", "gateway"):
        metadata = importlib.import_module(f"services.{service}.models").Base.metadata
        for table in metadata.tables.values():
            for col in table.columns:
                if isinstance(col.type, DateTime) and col.server_default is not None:
                    if col.default is None or col.default.arg.__name__ != "now":
                        missing.append(f"{table.fullname}.{col.name}")
    assert missing == []
