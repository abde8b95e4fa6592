"""Where the gateway may send webhooks: never to itself (SSRF guard, issue 14).

A subscriber's URL is refused when its host resolves to a loopback, link-local,
unspecified, multicast or reserved address, or to the address of one of the platform's
own services (``KPP_*_URL``). ``KPP_GATEWAY_WEBHOOK_ALLOWED_HOSTS`` lists the exceptions
for development and tests: ``host:port`` (e.g. ``127.0.0.1:9000``) allows exactly that
address; a bare ``host`` allows its other ports, but never the platform's own services. The check
runs when subscribing and again before every delivery (a name may be re-pointed later).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from services.gateway.config import gateway_settings
from shared.settings import get_settings

_SERVICES = ("gateway", "registry", "approvals", "issues", "scoring")


def _port(scheme: str, port: int | None) -> int:
    return port or (443 if scheme == "https" else 80)


def _allowed(host: str, port: int) -> tuple[bool, bool]:
    """(this host:port is listed, the host is listed for any port)."""
    allowed = {h.strip().lower() for h in gateway_settings().webhook_allowed_hosts.split(",") if h.strip()}
    return f"{host.lower()}:{port}" in allowed, host.lower() in allowed


async def _addresses(host: str, port: int) -> set[tuple[str, int]]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return {(info[4][0], port) for info in infos}


async def _own_addresses() -> set[tuple[str, int]]:
    settings = get_settings()
    own: set[tuple[str, int]] = set()
    for name in _SERVICES:
        parts = urlsplit(settings.service_url(name))
        if parts.hostname:
            try:
                own |= await _addresses(parts.hostname, _port(parts.scheme, parts.port))
            except OSError:
                continue
    return own


async def destination_problem(url: str) -> str | None:
    """Why the gateway must not send to ``url`` (Chinese), or None when it may."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "接收地址应为 http 或 https 地址"
    try:
        port = _port(parts.scheme, parts.port)
    except ValueError:
        return "接收地址的端口无效"
    exact, any_port = _allowed(parts.hostname, port)
    if exact:
        return None
    try:
        resolved = await _addresses(parts.hostname, port)
    except (OSError, UnicodeError):
        return f"无法解析接收地址的主机名 {parts.hostname}"
    own = await _own_addresses()
    for address, p in resolved:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if ip.version == 6 and ip.ipv4_mapped is not None:  # ::ffff:127.0.0.1
            ip = ip.ipv4_mapped
        if (
            ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast or ip.is_reserved
        ) and not any_port:
            return f"接收地址不能指向本机、链路本地或保留地址（{ip}）"
        if (address, p) in own:
            return "接收地址不能指向本平台自身的服务"
    return None
