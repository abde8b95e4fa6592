"""The request audit: every call through the gateway, refusals included, written in batches.

The middleware appends one row per request to an in-process buffer (no I/O on the hot
path); a background task writes the buffer every ~200 ms with one COPY (a multi-row write). If
the database is unreachable the rows stay buffered (bounded) and are written later.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.config import gateway_settings
from services.gateway.models import RequestLog
from shared import clock
from shared.db import get_engine
from shared.errors import PayloadTooLarge
from shared.identity import Principal

log = logging.getLogger("kpp.gateway.audit")
AUDITED_PREFIXES = ("/api/", "/internal/")
_TABLE = RequestLog.__table__
# a buffered row is a plain tuple in this order (no dict, no ORM object per request)
COLUMNS = (
    "at",
    "request_id",
    "principal",
    "role",
    "unit_id",
    "app_key",
    "method",
    "path",
    "query",
    "status",
    "code",
    "latency_ms",
    "body_sha256",
    "body_bytes",
    "client_ip",
)
assert set(COLUMNS) == {c.name for c in _TABLE.columns} - {"id"}
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class AuditContext:
    """Filled in while the request is handled (the principal once it is known)."""

    __slots__ = ("principal",)

    def __init__(self) -> None:
        self.principal = None


# the most a text column takes, in COLUMNS order (None: unbounded or not text)
_LIMITS = tuple(getattr(_TABLE.columns[name].type, "length", None) for name in COLUMNS)
# SQLSTATE classes meaning "the database is not there" (keep the rows, try again later):
# 08 connection exception, 53 insufficient resources, 57 operator intervention
_OUTAGE_CLASSES = ("08", "53", "57")


def sanitise(row: tuple) -> tuple:
    """A row PostgreSQL accepts: no NUL, valid UTF-8, each text within its column."""
    out = []
    for value, limit in zip(row, _LIMITS, strict=True):
        if isinstance(value, str):
            if "\x00" in value:
                value = value.replace("\x00", "\\x00")
            if not value.isascii():
                value = value.encode("utf-8", "backslashreplace").decode("utf-8")
            if limit is not None and len(value) > limit:
                value = value[:limit]
        out.append(value)
    return tuple(out)


def _is_outage(exc: BaseException) -> bool:
    if isinstance(exc, asyncpg.PostgresError):
        return (getattr(exc, "sqlstate", "") or "")[:2] in _OUTAGE_CLASSES
    return True  # OSError, timeouts, a closed connection: the database is not answering


class AuditWriter:
    """The buffer and its writer. Nothing is dropped (issue 14): a row the database refuses
    is written sanitised, a refused batch is split so the good rows go in at once, and while
    the database is away the rows past ``audit_buffer_max`` (and those left at shutdown)
    are spilled to ``audit_spill_path`` and written back when it returns."""

    def __init__(
        self,
        engine: Callable[[], AsyncEngine] = get_engine,
        *,
        spill_path: str | None = None,
        buffer_max: int | None = None,
    ) -> None:
        self.rows: list[tuple] = []
        self._spill_path, self._buffer_max = spill_path, buffer_max
        self._task: asyncio.Task | None = None
        self._lock = asyncio.Lock()
        self.engine = engine
        self.spilled = 0  # rows this writer had to put on disk
        self._next_spill_try = 0.0

    @property
    def spill_path(self) -> Path:
        return Path(self._spill_path or gateway_settings().audit_spill_path)

    @property
    def buffer_max(self) -> int:
        return self._buffer_max or gateway_settings().audit_buffer_max

    def add(self, row: tuple) -> None:
        self.rows.append(sanitise(row))
        if len(self.rows) >= self.buffer_max:
            self._spill(self.rows)  # only when the database has been away for a long while
            self.rows = []

    def _spill(self, rows: list[tuple], *, again: bool = False) -> None:
        path = self.spill_path
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.writelines(json.dumps([r[0].isoformat(), *r[1:]], ensure_ascii=True) + "\n" for r in rows)
        if not again:
            self.spilled += len(rows)
        log.error("audit database unreachable: %d rows spilled to %s", len(rows), path)

    def _unspill(self) -> list[tuple]:
        path = self.spill_path
        if not path.exists():
            return []
        taken = path.with_name(path.name + f".{os.getpid()}.taking")
        path.rename(taken)  # new spills go to a fresh file meanwhile
        rows = []
        for line in taken.read_text(encoding="utf-8").splitlines():
            if line.strip():
                at, *rest = json.loads(line)
                rows.append((datetime.fromisoformat(at), *rest))
        taken.unlink()
        return rows

    async def _copy(self, rows: list[tuple]) -> None:
        async with self.engine().connect() as conn:
            raw = await conn.get_raw_connection()
            # one COPY for the whole batch: no per-row statement compiling or binding
            await raw.driver_connection.copy_records_to_table(
                _TABLE.name, schema_name=_TABLE.schema, columns=COLUMNS, records=rows
            )

    async def _write_apart(self, rows: list[tuple]) -> int:
        """A refused batch, halved until the refused rows are alone; those go in sanitised
        harder (every text escaped to ASCII), so one bad row never holds back the rest."""
        try:
            await self._copy(rows)
            return len(rows)
        except Exception as exc:
            if _is_outage(exc):
                raise
            if len(rows) > 1:
                half = len(rows) // 2
                return await self._write_apart(rows[:half]) + await self._write_apart(rows[half:])
            log.warning("audit row refused (%r); written escaped", exc)
            row = tuple(
                v.encode("ascii", "backslashreplace").decode() if isinstance(v, str) else v for v in rows[0]
            )
            await self._copy([sanitise(row)])
            return 1

    async def flush(self) -> int:
        async with self._lock:
            rows, self.rows = self.rows, []
            written = 0
            if rows:
                try:
                    written = await self._write_apart(rows)
                except Exception as exc:  # the database is away: keep them for the next round
                    log.warning("audit flush of %d rows failed: %r", len(rows), exc)
                    self.rows[:0] = rows
                    if len(self.rows) >= self.buffer_max:
                        self._spill(self.rows)
                        self.rows = []
                    return 0
            elif time.monotonic() < self._next_spill_try:
                return 0
            return written + await self._write_spilled()

    async def _write_spilled(self) -> int:
        """Rows kept on disk, written back once the database answers again."""
        try:
            rows = self._unspill()
        except (OSError, ValueError) as exc:
            log.error("audit spill file unreadable: %r", exc)
            return 0
        if not rows:
            return 0
        try:
            return await self._write_apart(rows)
        except Exception as exc:
            log.warning("audit spill of %d rows not written yet: %r", len(rows), exc)
            self._spill(rows, again=True)
            self._next_spill_try = time.monotonic() + 5
            return 0

    async def _run(self) -> None:
        interval = gateway_settings().audit_flush_ms / 1000
        while True:
            await asyncio.sleep(interval)
            try:
                await self.flush()
            except Exception:  # the writer never dies: a dead writer would end the audit
                log.exception("audit flush round failed")

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="gateway-audit-writer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()
        if self.rows:  # the database did not take them: keep them on disk for the next start
            self._spill(self.rows)
            self.rows = []


audit_writer = AuditWriter()


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


class GatewayMiddleware:
    """Audits each /api and /internal request and enforces the request-body limit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(AUDITED_PREFIXES):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        ctx = AuditContext()
        scope["kpp.audit"] = ctx
        limit = gateway_settings().max_body_bytes
        declared = _header(scope, b"content-length")
        digest = hashlib.sha256()
        size = 0
        state: dict[str, Any] = {"status": 500, "rid": None, "problem": None}

        async def receive_limited() -> Message:
            nonlocal size
            if declared is not None and declared.isdigit() and int(declared) > limit:
                raise PayloadTooLarge(
                    f"请求体超过 {limit // (1024 * 1024)} MB 上限", code="request.too_large"
                )
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(
                        f"请求体超过 {limit // (1024 * 1024)} MB 上限", code="request.too_large"
                    )
                if chunk:
                    digest.update(chunk)
            return message

        async def send_observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                for key, value in message.get("headers", ()):
                    if key == b"x-request-id":
                        state["rid"] = value.decode("latin-1")
                    elif key == b"content-type" and value.startswith(b"application/problem+json"):
                        state["problem"] = b""
            elif message["type"] == "http.response.body" and state["problem"] is not None:
                state["problem"] += message.get("body", b"")[:4096]
            await send(message)

        try:
            await self.app(scope, receive_limited, send_observed)
        finally:
            audit_writer.add(self._row(scope, ctx, state, started, digest, size))

    @staticmethod
    def _row(
        scope: Scope, ctx: AuditContext, state: dict[str, Any], started: float, digest: Any, size: int
    ) -> tuple:
        code = None
        if state["problem"]:
            code = problem_code(state["problem"])
        return audit_row(
            scope,
            ctx.principal,
            _header(scope, b"x-app-key"),
            state["rid"],
            state["status"],
            code,
            started,
            digest.hexdigest(),
            size,
        )


_CODE = re.compile(rb'"code"\s*:\s*"([A-Za-z0-9_.\-]{1,80})"')


def problem_code(body: bytes) -> str | None:
    """The ``code`` of a problem body (a service's refusal too), if it has one."""
    with contextlib.suppress(ValueError, AttributeError, TypeError):
        code = json.loads(body).get("code")
        return code if isinstance(code, str) else None
    found = _CODE.search(body[:65536])  # a body cut short: the code is near its start
    return found.group(1).decode() if found else None


def audit_row(
    scope: Scope,
    p: Principal | None,
    claimed_key: str | None,
    rid: str | None,
    status: int,
    code: str | None,
    started: float,
    body_sha256: str,
    size: int,
) -> tuple:
    """One request_log row (``COLUMNS`` order); the app key a refused request claimed."""
    query = scope.get("query_string", b"").decode("latin-1") or None
    client = scope.get("client")
    return (
        clock.now(),
        rid,
        p.subject if p else None,
        str(p.role) if p else None,
        p.unit_id if p else None,
        ((p.app_key if p else claimed_key) or "")[:40] or None,
        scope["method"],
        scope["path"][:500],
        query[:2000] if query else None,
        status,
        code,
        round((time.perf_counter() - started) * 1000, 3),
        body_sha256,
        size,
        client[0] if client else None,
    )
