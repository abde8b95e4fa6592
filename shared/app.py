"""The app factory every service uses: lifespan, error handlers, request ids, probes, metrics."""

from __future__ import annotations

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

from shared.db import dispose_engine, get_engine
from shared.errors import install_error_handlers
from shared.input_guard import NulGuardMiddleware
from shared.logging import REQUEST_ID_HEADER, configure_logging, request_id_var
from shared.settings import get_settings

REQUESTS = Counter("kpp_http_requests_total", "HTTP requests", ["service", "method", "status"])
LATENCY = Histogram("kpp_http_request_seconds", "HTTP request latency", ["service"])


class RequestContextMiddleware:
    """Carries ``X-Request-ID`` (made here if absent) into logs, responses and onward calls."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

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
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
            REQUESTS.labels(self.service, scope["method"], str(status)).inc()
            LATENCY.labels(self.service).observe(time.perf_counter() - started)


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


def create_app(
    service: str,
    *,
    routers: Sequence[APIRouter] = (),
    title: str,
    description: str = "",
    on_startup: Sequence[Callable[[FastAPI], Awaitable[None]]] = (),
    on_shutdown: Sequence[Callable[[FastAPI], Awaitable[None]]] = (),
    readiness: dict[str, Check] | None = None,
) -> FastAPI:
    settings = get_settings()
    configure_logging(service, settings.log_level, settings.log_json)
    checks: dict[str, Check] = {"database": check_database, "redis": check_redis}
    checks.update(readiness or {})

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for hook in on_startup:
            await hook(app)
        try:
            yield
        finally:
            for hook in on_shutdown:
                await hook(app)
            await dispose_engine()

    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan)
    app.state.service = service
    install_error_handlers(app)
    for router in routers:
        app.include_router(router)

    @app.get("/healthz", tags=["ops"], summary="存活检查")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @app.get("/readyz", tags=["ops"], summary="就绪检查（数据库、Redis）")
    async def readyz() -> Response:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await check()
                results[name] = "ok"
            except Exception as exc:  # a probe reports, it does not raise
                results[name] = f"error: {type(exc).__name__}"
        ready = all(v == "ok" for v in results.values())
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "service": service, "checks": results},
            status_code=200 if ready else 503,
        )

    @app.get("/metrics", tags=["ops"], include_in_schema=False)
    async def metrics(request: Request) -> Response:
        # open in dev/test; elsewhere only to the scraper holding KPP_METRICS_TOKEN (issue 14)
        if settings.env not in ("dev", "test"):
            token = settings.metrics_token
            given = request.headers.get("authorization", "").removeprefix("Bearer ")
            if not token or not hmac.compare_digest(given.encode(), token.encode()):
                return JSONResponse({"title": "Not found", "status": 404,
                                     "code": "resource.not_found", "detail": "请求的路径不存在"},
                                    status_code=404, media_type="application/problem+json")
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(NulGuardMiddleware)  # a NUL byte is a 422, never a database 503
    app.add_middleware(RequestContextMiddleware, service=service)
    return app


def request_id_header() -> dict[str, str]:
    rid = request_id_var.get()
    return {REQUEST_ID_HEADER: rid} if rid else {}
