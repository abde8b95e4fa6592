"""Service-to-service HTTP on aiohttp: pooled connections, timeouts, request id, identity.

httpx's AsyncClient pool collapses to ~0.1x of a direct call under concurrency here
(encode/httpx#3215); aiohttp's connector holds up, so the gateway and every
service-to-service call use it. Only idempotent methods are retried.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp

from shared.errors import ServiceUnavailable
from shared.identity import IDENTITY_HEADER, SYSTEM_PRINCIPAL, Principal, token_cache
from shared.jsonutil import dumps
from shared.logging import REQUEST_ID_HEADER, request_id_var
from shared.settings import get_settings

log = logging.getLogger("kpp.http")

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
SERVICE_NAMES_ZH = {
    "gateway": "网关",
    "registry": "项目库服务",
    "approvals": "审批服务",
    "issues": "问题服务",
    "scoring": "考核服务",
}


@dataclass
class ServiceResponse:
    status: int
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class ServiceClient:
    """One pooled client per process for calls to the other KPP services."""

    def __init__(self, *, limit: int = 200, retries: int = 2) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._limit = limit
        self.retries = retries

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            settings = get_settings()
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._limit, keepalive_timeout=30),
                timeout=aiohttp.ClientTimeout(total=settings.service_timeout_s, connect=2),
                auto_decompress=False,
                skip_auto_headers=("User-Agent",),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self,
        service: str,
        method: str,
        path: str,
        *,
        principal: Principal | None = None,
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> ServiceResponse:
        """Call ``service``; a connection failure or timeout becomes a 503 naming it."""
        url = get_settings().service_url(service) + path
        send_headers = {IDENTITY_HEADER: token_cache.token_for(principal or SYSTEM_PRINCIPAL)}
        rid = request_id_var.get()
        if rid:
            send_headers[REQUEST_ID_HEADER] = rid
        send_headers.update(headers or {})
        data = None
        if json_body is not None:
            data = dumps(json_body).encode()
            send_headers["Content-Type"] = "application/json"
        attempts = 1 + (self.retries if method.upper() in IDEMPOTENT else 0)
        last_error: Exception | None = None
        for attempt in range(attempts):
            try:
                async with self.session.request(
                    method, url, data=data, params=params, headers=send_headers
                ) as resp:
                    body = await resp.read()
                    if resp.status in (502, 503, 504) and attempt + 1 < attempts:
                        await asyncio.sleep(0.05 * 2**attempt)
                        continue
                    return ServiceResponse(resp.status, body, dict(resp.headers))
            except (aiohttp.ClientError, TimeoutError) as exc:
                last_error = exc
                if attempt + 1 < attempts:
                    await asyncio.sleep(0.05 * 2**attempt)
        log.warning("call to %s %s %s failed: %r", service, method, path, last_error)
        raise ServiceUnavailable(
            f"{SERVICE_NAMES_ZH.get(service, service)}（{service}）暂不可用，请稍后重试",
            code="service.unavailable",
            service=service,
        )

    async def get(self, service: str, path: str, **kw: Any) -> ServiceResponse:
        return await self.request(service, "GET", path, **kw)


service_client = ServiceClient()
