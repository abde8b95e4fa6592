"""The app factory every service uses: lifespan, error handlers, request ids, probes, metrics."""

from __future__ import annotations

import asyncio
import gc
import hmac
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from redis.asyncio import Redis
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import problem_doc
from shared.db import dispose_engine, get_engine
from shared.deadletters import Handlers, dead_letter_router, event_metrics
from shared.errors import install_error_handlers
from shared.events import EventPipeline
from shared.http import service_client
from shared.input_guard import guard_nul
from shared.logging import REQUEST_ID_HEADER, configure_logging, request_id_var
from shared.settings import get_settings

REQUESTS = Counter("kpp_http_requests_total", "HTTP requests", ["service", "method", "status"])
LATENCY = Histogram("kpp_http_request_seconds", "HTTP request latency", ["service"])


class RequestContextMiddleware:
    """The one KPP layer around every request (pure ASGI, issue 15: it was two):
    ``X-Request-ID`` (made here if absent) into logs, responses and onward calls; the
    request counters and latency; the NUL-byte guard (``shared.input_guard``)."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service
        self.latency = LATENCY.labels(service)
        self.counters: dict[tuple[str, int], Any] = {}  # (method, status) → labelled counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                rid = value.decode("latin-1")[:64]
                break
        rid = rid or uuid.uuid4().hex
        rid_header = (b"x-request-id", rid.encode())
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), rid_header]
            await send(message)

        try:
            await guard_nul(self.app, scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
            key = (scope["method"], status)
            counter = self.counters.get(key)
            if counter is None:
                counter = self.counters[key] = REQUESTS.labels(self.service, key[0], str(status))
            counter.inc()
            self.latency.observe(time.perf_counter() - started)


async def check_database() -> None:
    async with get_engine().connect() as conn:
        await conn.execute(text("SELECT 1"))


async def check_redis() -> None:
    client = Redis.from_url(get_settings().redis_url, socket_connect_timeout=2)
    try:
        await client.ping()
    finally:
        await client.aclose()


Check = Callable[[], Awaitable[Any]]
# a readiness check answers within this or counts as down (the whole probe stays < 2 s)
CHECK_TIMEOUT_S = 1.5
CRITICAL_CHECKS = frozenset({"database", "redis"})


async def _probe(check: Check) -> str:
    """ok / degraded: … / down: … — a probe reports, it does not raise."""
    try:
        result = await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
    except TimeoutError:
        return "down: timeout"
    except Exception as exc:
        return f"down: {type(exc).__name__}"
    return result if isinstance(result, str) and result.startswith("degraded") else "ok"


def create_app(
    service: str,
    *,
    routers: Sequence[APIRouter] = (),
    title: str,
    description: str = "",
    on_startup: Sequence[Callable[[FastAPI], Awaitable[None]]] = (),
    on_shutdown: Sequence[Callable[[FastAPI], Awaitable[None]]] = (),
    readiness: dict[str, Check] | None = None,
    events: tuple[EventPipeline, Handlers] | None = None,
    openapi_url: str | None = "/openapi.json",
) -> FastAPI:
    """``events`` (pipeline, handlers) of a consumer: its dead-letter admin paths and counters.
    ``openapi_url=None``: no OpenAPI document nor /docs of FastAPI's (the gateway serves its
    merged document instead)."""
    settings = get_settings()
    configure_logging(service, settings.log_level, settings.log_json)
    checks: dict[str, Check] = {"database": check_database, "redis": check_redis}
    checks.update(readiness or {})

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for hook in on_startup:
            await hook(app)
        # issue 15: the modules, routes and models loaded by now live as long as the process;
        # out of the collector's sight, a full collection no longer walks them (p99 pauses)
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            for hook in on_shutdown:
                await hook(app)
            await service_client.close()
            await dispose_engine()

    app = FastAPI(
        title=title, description=description, version="0.1.0", lifespan=lifespan, openapi_url=openapi_url
    )
    app.state.service = service
    install_error_handlers(app)
    # every route documents its problem+json errors; only logging in is open to anyone
    problem_doc.install(app, open_prefixes=("/api/v1/auth/",))
    for router in routers:
        app.include_router(router)
    if events is not None:
        app.include_router(dead_letter_router(*events))

    @app.get("/healthz", tags=["ops"], summary="存活检查")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @app.get("/readyz", tags=["ops"], summary="就绪检查（数据库、Redis；其他依赖只标记降级）")
    async def readyz() -> Response:
        # issue 11: answers within CHECK_TIMEOUT_S, every check at once; only this process's
        # own database and Redis make it not ready — another service's fault is "degraded"
        states = await asyncio.gather(*(_probe(check) for check in checks.values()))
        results = dict(zip(checks, states, strict=True))
        down = [n for n, v in results.items() if v.startswith("down") and n in CRITICAL_CHECKS]
        degraded = [n for n, v in results.items() if v != "ok" and n not in down]
        status = "not_ready" if down else "degraded" if degraded else "ready"
        return JSONResponse(
            {"status": status, "service": service, "checks": results}, status_code=503 if down else 200
        )

    @app.get("/metrics", tags=["ops"], include_in_schema=False)
    async def metrics(request: Request) -> Response:
        # open in dev/test; elsewhere only to the scraper holding KPP_METRICS_TOKEN (issue 14)
        if settings.env not in ("dev", "test"):
            token = settings.metrics_token
            given = request.headers.get("authorization", "").removeprefix("Bearer ")
            if not token or not hmac.compare_digest(given.encode(), token.encode()):
                return JSONResponse(
                    {
                        "title": "Not found",
                        "status": 404,
                        "code": "resource.not_found",
                        "detail": "请求的路径不存在",
                    },
                    status_code=404,
                    media_type="application/problem+json",
                )
        body = generate_latest().decode()
        if events is not None:
            client = Redis.from_url(get_settings().redis_url, socket_connect_timeout=2)
            try:
                body += await event_metrics(service, events[0], client)
            except Exception as exc:  # counters are best effort; the scrape still answers
                body += f"# event metrics unavailable: {type(exc).__name__}\n"
            finally:
                await client.aclose()
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    # request id, metrics and the NUL guard (a NUL byte is a 422, never a database 503)
    app.add_middleware(RequestContextMiddleware, service=service)
    return app


def request_id_header() -> dict[str, str]:
    rid = request_id_var.get()
    return {REQUEST_ID_HEADER: rid} if rid else {}
