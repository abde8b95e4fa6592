"""The work ledger of 100 k problems as xlsx (target ≤ 5 s).

    .venv/bin/python -m bench.issues_ledger [--problems 100000] [--rounds 3]

Measures what the endpoint does: the ledger query (all visible rows) and the streaming
(write-only) xlsx workbook, with days left counted on the shared calendar.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time


async def main(n: int, rounds: int) -> None:
    from bench.issues_common import issues_database

    async with issues_database(n) as url:
        os.environ["KPP_DATABASE_URL"] = url
        from services.issues import clock
        from services.issues.ledger import json_rows, ledger_rows, xlsx_bytes
        from services.issues.service import filter_clauses
        from shared.calendar import default_calendar
        from shared.db import dispose_engine, sessionmaker
        from shared.identity import Principal, Role

        office = Principal(subject="user:zdb", role=Role.key_office, unit_id="office-zdb")
        cal, on = default_calendar(), clock.today()
        units = {"dept-fgj": "县发展和改革局"}
        for i in range(rounds):
            async with sessionmaker()() as session:
                t0 = time.perf_counter()
                rows = await ledger_rows(session, filter_clauses(office, on=on))
                t1 = time.perf_counter()
                data = xlsx_bytes(rows, cal, on, units)
                t2 = time.perf_counter()
                json_rows(rows, cal, on, units)
                t3 = time.perf_counter()
            print(
                f"round {i + 1}: {len(rows):,} rows  query {t1 - t0:5.2f} s  "
                f"xlsx {t2 - t1:5.2f} s  total xlsx {t2 - t0:5.2f} s  "
                f"({len(data) / 1e6:.1f} MB)   json rows {t3 - t2:4.2f} s"
            )
        await dispose_engine()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--problems", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.problems, args.rounds))
