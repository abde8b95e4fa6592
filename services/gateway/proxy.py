"""Forwarding an outside request to the service that owns its path."""

from __future__ import annotations

from urllib.parse import quote

import aiohttp
from fastapi import Request, Response
from yarl import URL

from services.gateway import idempotency
from services.gateway.config import gateway_settings
from services.gateway.guard import check_scope
from services.gateway.routes import owner_of
from services.gateway.scopes import required_scope
from shared.errors import InvalidInput, NotFound, ServiceUnavailable
from shared.http import SERVICE_NAMES_ZH, service_client
from shared.identity import IDENTITY_HEADER, Principal, token_cache
from shared.logging import REQUEST_ID_HEADER, request_id_var
from shared.settings import get_settings

FORWARD_REQUEST_HEADERS = ("content-type", "accept", "if-match", "if-none-match", "idempotency-key")
FORWARD_RESPONSE_HEADERS = (
    "content-type",
    "etag",
    "location",
    "retry-after",
    "content-disposition",
    "cache-control",
)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_timeout: aiohttp.ClientTimeout | None = None


def _upstream_timeout() -> aiohttp.ClientTimeout:
    global _timeout
    if _timeout is None:
        _timeout = aiohttp.ClientTimeout(total=gateway_settings().upstream_timeout_s, connect=2)
    return _timeout


def reset_timeout() -> None:
    """Forget the cached timeout (after the setting changed)."""
    global _timeout
    _timeout = None


def unavailable(service: str, *, timeout: bool = False) -> ServiceUnavailable:
    name = f"{SERVICE_NAMES_ZH[service]}（{service}）"
    if timeout:
        err = ServiceUnavailable(f"{name}响应超时，请稍后重试", code="service.timeout", service=service)
        err.status, err.title = 504, "Gateway timeout"
        return err
    return ServiceUnavailable(f"{name}暂不可用，请稍后重试", code="service.unavailable",
                              service=service)


async def forward(request: Request, principal: Principal) -> Response:
    path = request.scope["path"]
    service = owner_of(path)
    if service is None:
        raise NotFound(f"路径 {path} 不存在", code="route.not_found")
    method = request.method
    check_scope(principal, required_scope(method, path, service))
    body = await request.body()
    idem_key = request.headers.get(idempotency.HEADER) if method in WRITE_METHODS else None
    if idem_key is None:
        status, headers, content = await _send(request, service, path, body, principal)
        return Response(content, status_code=status, headers=headers)
    query = request.scope["query_string"].decode("latin-1")
    fp = idempotency.fingerprint(method, path, query, body)
    rkey, stored = await idempotency.begin(principal, idem_key, fp)
    if stored is not None:
        return Response(stored.body, status_code=stored.status,
                        headers=stored.headers | {"Idempotent-Replayed": "true"})
    try:
        status, headers, content = await _send(request, service, path, body, principal)
    except BaseException:
        await idempotency.release(rkey)
        raise
    await idempotency.finish(rkey, fp, status, headers, content)
    return Response(content, status_code=status, headers=headers)


async def _send(request: Request, service: str, path: str, body: bytes,
                principal: Principal) -> tuple[int, dict[str, str], bytes]:
    headers = {IDENTITY_HEADER: token_cache.token_for(principal)}
    for name in FORWARD_REQUEST_HEADERS:
        value = request.headers.get(name)
        if value is not None:
            if not value.isprintable():  # CR, LF, NUL …: never passed on (header injection)
                raise InvalidInput(f"请求头 {name} 含有控制字符", code="request.header_invalid",
                                   fields=[{"field": name, "message": "含有控制字符"}])
            headers[name] = value
    rid = request_id_var.get()
    if rid:
        headers[REQUEST_ID_HEADER] = rid
    # the path as it came, still percent-encoded (decoded text may hold control characters)
    raw_path = request.scope.get("raw_path")
    url = get_settings().service_url(service) + (raw_path.decode("latin-1") if raw_path
                                                 else quote(path))
    query = request.scope["query_string"]
    if query:
        url += "?" + query.decode("latin-1")
    try:
        async with service_client.session.request(
            request.method, URL(url, encoded=True), data=body or None, headers=headers,
            timeout=_upstream_timeout(),
        ) as resp:
            content = await resp.read()
            out = {k: resp.headers[k] for k in FORWARD_RESPONSE_HEADERS if k in resp.headers}
            return resp.status, out, content
    except TimeoutError as exc:
        raise unavailable(service, timeout=True) from exc
    except aiohttp.ClientError as exc:
        raise unavailable(service) from exc
