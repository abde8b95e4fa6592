"""Forwarding an outside request to the service that owns its path."""

from __future__ import annotations

import aiohttp
from fastapi import Request, Response

from services.gateway.routes import owner_of
from shared.errors import NotFound, PayloadTooLarge, ServiceUnavailable
from shared.http import SERVICE_NAMES_ZH, service_client
from shared.identity import IDENTITY_HEADER, Principal, token_cache
from shared.logging import REQUEST_ID_HEADER, request_id_var
from shared.settings import get_settings

MAX_BODY_BYTES = 20 * 1024 * 1024  # an xlsx of 10k+ rows with photos referenced, not embedded
FORWARD_REQUEST_HEADERS = ("content-type", "accept", "if-match", "if-none-match", "idempotency-key")
FORWARD_RESPONSE_HEADERS = (
    "content-type",
    "etag",
    "location",
    "retry-after",
    "content-disposition",
    "cache-control",
)


async def forward(request: Request, principal: Principal) -> Response:
    path = request.url.path
    service = owner_of(path)
    if service is None:
        raise NotFound(f"路径 {path} 不存在", code="route.not_found")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"请求体超过 {MAX_BODY_BYTES // (1024 * 1024)} MB 上限")
    headers = {IDENTITY_HEADER: token_cache.token_for(principal)}
    for name in FORWARD_REQUEST_HEADERS:
        value = request.headers.get(name)
        if value is not None:
            headers[name] = value
    rid = request_id_var.get()
    if rid:
        headers[REQUEST_ID_HEADER] = rid
    url = get_settings().service_url(service) + path
    try:
        async with service_client.session.request(
            request.method, url, params=list(request.query_params.multi_items()),
            data=body or None, headers=headers,
        ) as resp:
            content = await resp.read()
            out_headers = {k: resp.headers[k] for k in FORWARD_RESPONSE_HEADERS if k in resp.headers}
            return Response(content, status_code=resp.status, headers=out_headers)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ServiceUnavailable(
            f"{SERVICE_NAMES_ZH[service]}（{service}）暂不可用，请稍后重试",
            code="service.unavailable",
            service=service,
        ) from exc
