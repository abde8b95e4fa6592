"""The gateway's front door: one pure ASGI proxy for forwarded ``/api/v1/*`` traffic.

A request for a path a service owns (``routes.owner_of``) with GET/POST/PUT/PATCH/DELETE
is handled here from start to end, without FastAPI: request id, body limit and digest,
the caller (``guard.caller_of``), scope, idempotency, the call (``proxy.forward_call``),
one audit row (refusals included), metrics. Its one error path, ``problem_of``, turns
every refusal into the same problem+json the gateway's own paths give (``shared.errors``:
stable ``code``, Chinese ``detail``, ``instance``).

Everything else (the gateway's own endpoints, unknown paths, HEAD/OPTIONS, the merged
OpenAPI, lifespan) goes to the plain FastAPI app ``api`` unchanged.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from typing import Any

import asyncpg
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError
from starlette.types import Receive, Scope, Send

from services.gateway.audit import EMPTY_SHA256, audit_row, audit_writer, problem_code
from services.gateway.config import gateway_settings
from services.gateway.guard import caller_of
from services.gateway.proxy import forward_call
from services.gateway.routes import owner_of
from shared.app import LATENCY, REQUESTS
from shared.errors import (
    PROBLEM_JSON,
    KPPError,
    PayloadTooLarge,
    database_unavailable,
    internal_error,
)
from shared.logging import request_id_var

log = logging.getLogger("kpp.gateway")
PROXY_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
# the client went away before its request was read or answered: nothing is sent, the
# audit row says so (nginx's convention for "client closed request")
CLIENT_CLOSED = 499


class ClientGone(Exception):
    """The client disconnected while its request body was being read."""


class RequestBody:
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
        if self.declared is not None and self.declared.isdigit() and int(self.declared) > self.limit:
            raise self._too_large()
        chunks = []
        while True:
            message = await self.receive()
            if message["type"] != "http.request":  # http.disconnect
                raise ClientGone()
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


def problem_of(exc: Exception, method: str, path: str) -> KPPError:
    """The refusal ``exc`` stands for, as the gateway's own paths would answer it."""
    if isinstance(exc, KPPError):
        return exc
    if isinstance(exc, (DBAPIError, asyncpg.PostgresError, OSError)):
        # the only unguarded I/O before the call: the caller's app key or account state
        log.error("database error on %s %s: %r", method, path, exc)
        return database_unavailable()
    log.exception("unhandled error on %s %s", method, path, exc_info=exc)
    return internal_error()


def problem_message(err: KPPError, path: str) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Headers and body of a problem+json answer, byte for byte as ``JSONResponse``."""
    body = json.dumps(
        err.body(path), ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode()
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in err.headers.items()]
    headers += [(b"content-length", str(len(body)).encode()), (b"content-type", PROBLEM_JSON.encode())]
    return headers, body


class ForwardingProxy:
    """The gateway's ASGI app: forwarded requests here, everything else to ``api``."""

    def __init__(self, api: FastAPI, service: str = "gateway") -> None:
        self.api = api
        self.service = service
        self._latency = LATENCY.labels(service)
        self._counters: dict[tuple[str, int], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in PROXY_METHODS:
            service = owner_of(scope["path"])
            if service is not None:
                await self.forward(scope, receive, send, service)
                return
        await self.api(scope, receive, send)

    async def forward(self, scope: Scope, receive: Receive, send: Send, service: str) -> None:
        started = time.perf_counter()
        # lower-case name → first value (reversed: the first occurrence is written last)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in reversed(scope["headers"])}
        # 32 random hex digits, as uuid4().hex but without building a UUID (2 % of the samples)
        rid = headers.get("x-request-id", "")[:64] or os.urandom(16).hex()
        token = request_id_var.set(rid)
        body = RequestBody(receive, headers.get("content-length"), gateway_settings().max_body_bytes)
        method, path = scope["method"], scope["path"]
        principal = None
        status, code = 500, None
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
            except ClientGone:
                status, code = CLIENT_CLOSED, "request.client_closed"
                return
            except Exception as exc:
                err = problem_of(exc, method, path)
                status, code = err.status, err.code
                out, content = problem_message(err, path)
            else:
                if status >= 400 and any(
                    k == b"content-type" and v.startswith(b"application/problem") for k, v in out
                ):
                    code = problem_code(content)  # the service's own refusal code (issue 14)
                if not (status < 200 or status in (204, 304)):  # as starlette's Response
                    out.append((b"content-length", str(len(content)).encode()))
            out.append((b"x-request-id", rid.encode()))
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
