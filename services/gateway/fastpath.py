"""The hot path: an outside request forwarded to a service, as one plain ASGI callable.

Through FastAPI a forwarded request crossed six middleware layers, matched every gateway
route, solved the dependencies and built Request and Response objects: more CPU than the
forwarding itself. ``ProxyFastPath`` sits in front of the whole stack and takes exactly the
requests the catch-all proxy route would get (a path a service owns, ``routes.owner_of``,
with GET/POST/PUT/PATCH/DELETE); it runs the same steps in the same order:

- request id from ``X-Request-ID`` or a new one, echoed, in the logging context, metrics
  (as ``shared.app.RequestContextMiddleware``);
- body-size limit, body digest and one audit row, refusals included (as ``audit``);
- the caller (``guard.caller_of``), scope, idempotency, forwarding (``proxy.forward_call``);
- errors rendered by the app's own exception handlers, so bodies and headers are the same.

Everything else (the gateway's own paths, unknown paths, HEAD/OPTIONS, /openapi.json)
goes to the FastAPI stack unchanged.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import time
import uuid
from typing import Any

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from services.gateway.audit import EMPTY_SHA256, audit_row, audit_writer, problem_code
from services.gateway.config import gateway_settings
from services.gateway.guard import caller_of
from services.gateway.proxy import forward_call
from services.gateway.routes import owner_of
from shared.app import LATENCY, REQUESTS
from shared.errors import PROBLEM_JSON, PayloadTooLarge
from shared.logging import request_id_var

log = logging.getLogger("kpp.gateway")
PROXY_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


class _Body:
    """The request body, read once on demand, with the size limit and the audit digest."""

    __slots__ = ("receive", "declared", "limit", "body", "size", "digest")

    def __init__(self, receive: Receive, declared: str | None, limit: int) -> None:
        self.receive, self.declared, self.limit = receive, declared, limit
        self.body: bytes | None = None
        self.size = 0
        self.digest: Any = None

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"请求体超过 {self.limit // (1024 * 1024)} MB 上限", code="request.too_large")

    async def read(self) -> bytes:
        if self.body is not None:
            return self.body
        chunks = []
        while True:
            if self.declared is not None and self.declared.isdigit() and int(self.declared) > self.limit:
                raise self._too_large()
            message = await self.receive()
            if message["type"] != "http.request":  # http.disconnect
                raise ClientDisconnect()
            chunk = message.get("body", b"")
            if chunk:
                self.size += len(chunk)
                if self.size > self.limit:
                    raise self._too_large()
                if self.digest is None:
                    self.digest = hashlib.sha256()
                self.digest.update(chunk)
                chunks.append(chunk)
            if not message.get("more_body", False):
                break
        self.body = b"".join(chunks)
        return self.body

    def sha256(self) -> str:
        return EMPTY_SHA256 if self.digest is None else self.digest.hexdigest()


class ProxyFastPath:
    """In front of the gateway's middleware stack: forwarded requests take the short way."""

    def __init__(self, app: FastAPI, stack: ASGIApp) -> None:
        self.app, self.stack = app, stack
        self.service: str = app.state.service
        self._latency = LATENCY.labels(self.service)
        self._counters: dict[tuple[str, int], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in PROXY_METHODS:
            service = owner_of(scope["path"])
            if service is not None:
                await self._forward(scope, receive, send, service)
                return
        await self.stack(scope, receive, send)

    async def _forward(self, scope: Scope, receive: Receive, send: Send, service: str) -> None:
        started = time.perf_counter()
        # lower-case name → first value (reversed: the first occurrence is written last)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in reversed(scope["headers"])}
        rid = headers.get("x-request-id", "")[:64] or uuid.uuid4().hex
        token = request_id_var.set(rid)
        body = _Body(receive, headers.get("content-length"), gateway_settings().max_body_bytes)
        method, path = scope["method"], scope["path"]
        principal = None
        status, code = 500, None
        rid_header = (b"x-request-id", rid.encode())
        try:
            try:
                principal = await caller_of(
                    headers, method, path, scope["query_string"].decode("latin-1"), body.read
                )
                status, out, content = await forward_call(
                    method=method,
                    path=path,
                    raw_path=scope.get("raw_path"),
                    query=scope["query_string"],
                    headers=headers,
                    principal=principal,
                    service=service,
                    read_body=body.read,
                    rid=rid,
                )
            except Exception as exc:
                status, code = await self._refuse(scope, receive, send, exc, rid_header)
                return
            if status >= 400 and any(
                k == b"content-type" and v.startswith(b"application/problem") for k, v in out
            ):
                code = problem_code(content)  # the service's own refusal code (issue 14)
            if not (status < 200 or status in (204, 304)):  # as starlette's Response
                out.append((b"content-length", str(len(content)).encode()))
            out.append(rid_header)
            await send({"type": "http.response.start", "status": status, "headers": out})
            await send({"type": "http.response.body", "body": content})
        finally:
            audit_writer.add(
                audit_row(
                    scope,
                    principal,
                    headers.get("x-app-key"),
                    rid,
                    status,
                    code,
                    started,
                    body.sha256(),
                    body.size,
                )
            )
            request_id_var.reset(token)
            counter = self._counters.get((method, status))
            if counter is None:
                counter = self._counters[(method, status)] = REQUESTS.labels(
                    self.service, method, str(status)
                )
            counter.inc()
            self._latency.observe(time.perf_counter() - started)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, exc: Exception, rid_header: tuple[bytes, bytes]
    ) -> tuple[int, str | None]:
        """The error response the FastAPI stack would give (its exception handlers)."""
        handler = self._handler_for(exc)
        response = handler(Request(scope, receive), exc)
        if inspect.isawaitable(response):
            response = await response

        async def send_with_id(message: dict) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), rid_header]
            await send(message)

        await response(scope, receive, send_with_id)
        code = None
        if (response.media_type or "").startswith(PROBLEM_JSON):
            code = problem_code(response.body[:4096])
        return response.status_code, code

    def _handler_for(self, exc: Exception):
        handlers = self.app.exception_handlers
        if isinstance(exc, HTTPException) and exc.status_code in handlers:
            return handlers[exc.status_code]
        for cls in type(exc).__mro__:
            if cls in handlers and cls is not Exception:
                return handlers[cls]
        # what ServerErrorMiddleware would do: the app's 500 handler (it logs the error)
        return handlers.get(500) or handlers[Exception]


def install(app: FastAPI) -> None:
    """Put the fast path in front of ``app``'s middleware stack (built on first request)."""
    build = app.build_middleware_stack

    def build_with_fast_path() -> ASGIApp:
        return ProxyFastPath(app, build())

    app.build_middleware_stack = build_with_fast_path  # type: ignore[method-assign]
