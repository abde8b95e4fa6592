"""The two statements of a monthly report or a correction (``progress.report_progress``,
``progress.correct_progress``; issue 15: BEGIN, LOAD, WRITE, COMMIT).

``LOAD`` locks the project (only the columns the access checks, the report checks, the event
and the project's update need) and reads the current reports before, of and after the month.
``WRITE`` inserts the report (retiring the corrected version first), updates the project's
latest-report columns and bumps its version as the ORM's version counter would, marks the R11
progress targets now met, resolves the month's R6 missing flag and inserts the audit row and
the outbox event through the one writer — one statement.

LOAD runs in READ COMMITTED: when it waited for the lock, its snapshot predates the report the
other request committed (only the locked project row is re-read). So WRITE first checks that
the reports LOAD saw around the month are still the current ones (``fresh``) and writes
nothing otherwise; the caller then loads again — now holding the lock, it sees everything.

Both are compiled once for the driver and sent on the request's ``WriteConnection``
(``shared.db``), whose one transaction the unit of work commits.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy import text

from services.registry.models import pipeline
from shared.db import WriteConnection, driver_statement

PROJECT_COLUMNS = (
    "id",
    "unit_id",
    "carrying_unit_credit_code",
    "project_code",
    "total_investment",
    "last_report_month",
    "last_progress_pct",
    "last_cumulative_investment",
)
# every column of ProgressOut: a correction's audit row holds the corrected version whole
REPORT_COLUMNS = (
    "id",
    "project_id",
    "month",
    "version",
    "current",
    "investment_month",
    "cumulative_investment",
    "exceeds_total",
    "progress_pct",
    "milestone",
    "problems",
    "reporter",
    "reporter_name",
    "correction_reason",
    "on_time",
    "reported_at",
)
AROUND_COLUMNS = ("id", "month", "cumulative_investment", "progress_pct")

_CURRENT = "FROM registry.progress_reports AS r WHERE r.project_id = {project} AND r.current AND r.month"
_BEFORE = f"{_CURRENT} < {{month}} ORDER BY r.month DESC LIMIT 1"
_OF = f"{_CURRENT} = {{month}}"
_AFTER = f"{_CURRENT} > {{month}} ORDER BY r.month LIMIT 1"


def _lateral(name: str, columns: tuple[str, ...], where: str) -> str:
    picked = ", ".join(f"r.{c}" for c in columns)
    found = where.format(project="p.id", month=":month")
    return f"LEFT JOIN LATERAL (SELECT {picked} {found}) AS {name} ON true"


LOAD = text(f"""
    SELECT {", ".join(f"p.{c}" for c in PROJECT_COLUMNS)},
           {", ".join(f"prev.{c} AS prev_{c}" for c in AROUND_COLUMNS)},
           {", ".join(f"same.{c} AS same_{c}" for c in REPORT_COLUMNS)},
           {", ".join(f"nxt.{c} AS next_{c}" for c in AROUND_COLUMNS)}
      FROM registry.projects AS p
      {_lateral("prev", AROUND_COLUMNS, _BEFORE)}
      {_lateral("same", REPORT_COLUMNS, _OF)}
      {_lateral("nxt", AROUND_COLUMNS, _AFTER)}
     WHERE p.id = :project_id
       FOR UPDATE OF p
""")


def _still(where: str, seen: str) -> str:
    found = where.format(project="CAST(:project_id AS uuid)", month="CAST(:month AS varchar)")
    return f"(SELECT r.id {found}) IS NOT DISTINCT FROM CAST(:{seen} AS uuid)"


_INSERTED = ", ".join(REPORT_COLUMNS)
_VALUES = """CAST(:id AS uuid), CAST(:project_id AS uuid), CAST(:month AS varchar), CAST(:version AS int),
           true, CAST(:investment_month AS numeric), CAST(:cumulative_investment AS numeric),
           CAST(:exceeds_total AS boolean), CAST(:progress_pct AS numeric),
           CAST(:milestone AS text), CAST(:problems AS text), CAST(:reporter AS varchar),
           CAST(:reporter_name AS varchar), CAST(:correction_reason AS text),
           CAST(:on_time AS boolean), CAST(:now AS timestamptz)"""

WRITE = text(f"""
WITH fresh AS (
    SELECT {_still(_BEFORE, "prev_id")} AND {_still(_OF, "same_id")} AND {_still(_AFTER, "next_id")} AS ok
), retired AS (
    UPDATE registry.progress_reports SET current = false
     WHERE id = CAST(:same_id AS uuid) AND current AND CAST(:correction AS boolean)
       AND (SELECT ok FROM fresh)
    RETURNING id
), report AS (
    -- after the retired version (its RETURNING read here): the current-month index stays unique
    INSERT INTO registry.progress_reports ({_INSERTED})
    SELECT {_VALUES}
      FROM fresh LEFT JOIN retired ON true
     WHERE fresh.ok
    RETURNING id
), project AS (
    -- the ORM's version counter: version + 1 whenever the row is updated
    UPDATE registry.projects
       SET last_report_month = CAST(:month AS varchar),
           last_progress_pct = CAST(:progress_pct AS numeric),
           last_cumulative_investment = CAST(:cumulative_investment AS numeric),
           version = version + 1, updated_at = CAST(:now AS timestamptz)
     WHERE id = CAST(:project_id AS uuid) AND CAST(:latest AS boolean) AND EXISTS (SELECT FROM report)
), targets AS (
    -- policy R11: a progress target is met on the last day of the month its threshold is reached
    UPDATE registry.targets SET met_on = CAST(:month_end AS date)
     WHERE project_id = CAST(:project_id AS uuid) AND kind = 'progress' AND met_on IS NULL
       AND threshold_pct <= CAST(:progress_pct AS numeric) AND EXISTS (SELECT FROM report)
), resolved AS (
    -- policy R6: the report resolves its own month's open missing flag
    UPDATE registry.missing_reports SET resolved_on = CAST(:today AS date)
     WHERE project_id = CAST(:project_id AS uuid) AND month = CAST(:month AS varchar)
       AND resolved_on IS NULL AND EXISTS (SELECT FROM report)
), {pipeline.writer.insert_row_ctes(guard="EXISTS (SELECT FROM report)")}
SELECT id FROM report
""")
_LOAD, _WRITE = driver_statement(LOAD), driver_statement(WRITE)


async def load(conn: WriteConnection, project_id: Any, month: str) -> SimpleNamespace | None:
    """``LOAD`` (begins the request's transaction): the locked project with the reports around
    ``month``, or None."""
    row = await conn.fetchrow(_LOAD, {"project_id": project_id, "month": month})
    return None if row is None else SimpleNamespace(**row)


async def write(conn: WriteConnection, params: dict[str, Any]) -> Any:
    """``WRITE`` in the transaction ``LOAD`` began: the new report's id, or None when the
    reports around the month changed after LOAD's snapshot (nothing written)."""
    return await conn.fetchval(_WRITE, params)
