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
import time
from typing import Any

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
COLUMNS = ("at", "request_id", "principal", "role", "unit_id", "app_key", "method", "path",
           "query", "status", "code", "latency_ms", "body_sha256", "body_bytes", "client_ip")
assert set(COLUMNS) == {c.name for c in _TABLE.columns} - {"id"}
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class AuditContext:
    """Filled in while the request is handled (the principal once it is known)."""

    __slots__ = ("principal",)

    def __init__(self) -> None:
        self.principal = None


class AuditWriter:
    def __init__(self) -> None:
        self.rows: list[tuple] = []
        self._task: asyncio.Task | None = None
        self._lock = asyncio.Lock()
        self.dropped = 0

    def add(self, row: tuple) -> None:
        if len(self.rows) >= gateway_settings().audit_buffer_max:
            self.dropped += 1  # only when the database has been down for a long while
            log.error("audit buffer full; %d request rows dropped so far", self.dropped)
            return
        self.rows.append(row)

    async def flush(self) -> int:
        async with self._lock:
            rows, self.rows = self.rows, []
            if not rows:
                return 0
            try:
                async with get_engine().connect() as conn:
                    raw = await conn.get_raw_connection()
                    # one COPY for the whole batch: no per-row statement compiling or binding
                    await raw.driver_connection.copy_records_to_table(
                        _TABLE.name, schema_name=_TABLE.schema, columns=COLUMNS, records=rows)
            except Exception as exc:  # keep them for the next round
                log.warning("audit flush of %d rows failed: %r", len(rows), exc)
                self.rows[:0] = rows
                return 0
            return len(rows)

    async def _run(self) -> None:
        interval = gateway_settings().audit_flush_ms / 1000
        while True:
            await asyncio.sleep(interval)
            await self.flush()

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
                raise PayloadTooLarge(f"请求体超过 {limit // (1024 * 1024)} MB 上限",
                                      code="request.too_large")
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"请求体超过 {limit // (1024 * 1024)} MB 上限",
                                          code="request.too_large")
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
    def _row(scope: Scope, ctx: AuditContext, state: dict[str, Any], started: float,
             digest: Any, size: int) -> tuple:
        code = None
        if state["problem"]:
            code = problem_code(state["problem"])
        return audit_row(scope, ctx.principal, _header(scope, b"x-app-key"), state["rid"],
                         state["status"], code, started, digest.hexdigest(), size)


def problem_code(body: bytes) -> str | None:
    """The ``code`` of a problem body, if it has one."""
    with contextlib.suppress(ValueError, AttributeError):
        return json.loads(body).get("code")
    return None


def audit_row(scope: Scope, p: Principal | None, claimed_key: str | None, rid: str | None,
              status: int, code: str | None, started: float, body_sha256: str,
              size: int) -> tuple:
    """One request_log row (``COLUMNS`` order); the app key a refused request claimed."""
    query = scope.get("query_string", b"").decode("latin-1") or None
    client = scope.get("client")
    return (
        clock.now(), rid,
        p.subject if p else None,
        str(p.role) if p else None,
        p.unit_id if p else None,
        ((p.app_key if p else claimed_key) or "")[:40] or None,
        scope["method"], scope["path"][:500],
        query[:2000] if query else None,
        status, code,
        round((time.perf_counter() - started) * 1000, 3),
        body_sha256, size,
        client[0] if client else None,
    )
