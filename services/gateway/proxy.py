"""Forwarding an outside request to the service that owns its path."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from services.gateway import idempotency
from services.gateway.config import gateway_settings
from services.gateway.guard import Headers, check_scope
from services.gateway.scopes import required_scope
from services.gateway.upstream import CutOff, NotSent, upstream
from shared.errors import InvalidInput, ServiceUnavailable
from shared.http import SERVICE_NAMES_ZH
from shared.identity import IDENTITY_HEADER, Principal, token_cache
from shared.logging import REQUEST_ID_HEADER
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
_FORWARD_RESPONSE = frozenset(n.encode() for n in FORWARD_RESPONSE_HEADERS)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def unavailable(service: str, *, timeout: bool = False) -> ServiceUnavailable:
    name = f"{SERVICE_NAMES_ZH[service]}（{service}）"
    if timeout:
        err = ServiceUnavailable(f"{name}响应超时，请稍后重试", code="service.timeout", service=service)
        err.status, err.title = 504, "Gateway timeout"
        return err
    return ServiceUnavailable(f"{name}暂不可用，请稍后重试", code="service.unavailable", service=service)


RawHeaders = list[tuple[bytes, bytes]]


async def forward_call(
    *,
    method: str,
    path: str,
    raw_path: bytes | None,
    query: bytes,
    headers: Headers,
    principal: Principal,
    service: str,
    read_body: Callable[[], Awaitable[bytes]],
    rid: str | None,
) -> tuple[int, RawHeaders, bytes]:
    """Scope check, idempotency and the call to ``service``: (status, headers, body)."""
    check_scope(principal, required_scope(method, path, service))
    body = await read_body()
    idem_key = headers.get(idempotency.HEADER) if method in WRITE_METHODS else None
    if idem_key is None:
        return await _send(method, service, path, raw_path, query, body, principal, headers, rid)
    fp = idempotency.fingerprint(method, path, query.decode("latin-1"), body)
    rkey, stored = await idempotency.begin(principal, idem_key, fp)
    if stored is not None:
        replayed = stored.headers | {"Idempotent-Replayed": "true"}
        return (
            stored.status,
            [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in replayed.items()],
            stored.body,
        )
    # the call runs on its own so that a 504 to the client does not end it: its outcome is
    # still recorded under the key, and until then a retry is refused (issue 14: a key
    # whose outcome is unknown never allows a second effect)
    call = asyncio.create_task(
        _send(method, service, path, raw_path, query, body, principal, headers, rid, settle=True)
    )
    try:
        status, out, content = await asyncio.wait_for(
            asyncio.shield(call), gateway_settings().upstream_timeout_s
        )
    except TimeoutError:
        await idempotency.mark_unknown(rkey, fp)
        call.add_done_callback(lambda task: _settle_later(task, rkey, fp))
        _settling.add(call)
        raise unavailable(service, timeout=True) from None
    except ServiceUnavailable as exc:
        if exc.extra.get("sent", True):
            await idempotency.mark_unknown(rkey, fp)  # cut off mid-call: it may have happened
        else:
            await idempotency.release(rkey)  # never reached the service: nothing happened
        raise
    except BaseException:
        await idempotency.release(rkey)
        raise
    await idempotency.finish(
        rkey, fp, status, {k.decode("latin-1"): v.decode("latin-1") for k, v in out}, content
    )
    return status, out, content


_settling: set[asyncio.Task] = set()


def _settle_later(task: asyncio.Task, rkey: str, fp: str) -> None:
    """A call the client stopped waiting for: its answer becomes the key's answer."""
    _settling.discard(task)
    if task.cancelled() or task.exception() is not None:
        return  # the outcome stays unknown: the key keeps refusing (409) until it expires
    status, out, content = task.result()
    _settling.add(
        asyncio.ensure_future(
            idempotency.finish(
                rkey,
                fp,
                status,
                {k.decode("latin-1"): v.decode("latin-1") for k, v in out},
                content,
                settled=True,
            )
        )
    )


async def _send(
    method: str,
    service: str,
    path: str,
    raw_path: bytes | None,
    query: bytes,
    body: bytes,
    principal: Principal,
    incoming: Headers,
    rid: str | None,
    *,
    settle: bool = False,
) -> tuple[int, RawHeaders, bytes]:
    headers = {IDENTITY_HEADER: token_cache.token_for(principal)}
    for name in FORWARD_REQUEST_HEADERS:
        value = incoming.get(name)
        if value is not None:
            if not value.isprintable():  # CR, LF, NUL …: never passed on (header injection)
                raise InvalidInput(
                    f"请求头 {name} 含有控制字符",
                    code="request.header_invalid",
                    fields=[{"field": name, "message": "含有控制字符"}],
                )
            headers[name] = value
    if rid:
        headers[REQUEST_ID_HEADER] = rid
    # the path as it came, still percent-encoded (decoded text may hold control characters)
    target = raw_path.decode("latin-1") if raw_path else quote(path)
    if query:
        target += "?" + query.decode("latin-1")
    settings = gateway_settings()
    try:
        async with asyncio.timeout(settings.idempotency_settle_s if settle else settings.upstream_timeout_s):
            status, raw, content = await upstream.call(
                get_settings().service_url(service), method, target, headers, body, connect_timeout=2
            )
    except TimeoutError as exc:
        raise unavailable(service, timeout=True) from exc
    except NotSent as exc:  # not connected: the request was never sent
        err = unavailable(service)
        err.extra["sent"] = False
        raise err from exc
    except (CutOff, OSError) as exc:
        raise unavailable(service) from exc
    out: RawHeaders = []
    for name, value in raw:  # the first of each forwarded header
        if name in _FORWARD_RESPONSE and all(name != n for n, _ in out):
            out.append((name, value))
    return status, out, content
