"""The forwarded call to a service: HTTP/1.1 over kept-alive connections, parsed by httptools.

Under load aiohttp's client cost the gateway more CPU than the forwarding it did (request
and response objects, header multidicts, timers, trace hooks; ``docs/performance.md``). A
forwarded call needs none of that: the request goes out as one write, the response is
parsed by httptools (the parser uvicorn itself uses), and each service's connections are
kept and reused. A connection idle for longer than ``IDLE_S`` is closed rather than reused
(uvicorn closes idle ones after 5 s, and a request written into a closing connection
would be lost).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from urllib.parse import urlsplit

import httptools

IDLE_S = 2.0
MAX_IDLE_PER_SERVICE = 256
RawHeaders = list[tuple[bytes, bytes]]


class NotSent(ConnectionError):
    """No connection could be made: the service never saw the request."""


class CutOff(ConnectionError):
    """The connection broke after the request was written: it may have been handled."""


class _Connection(asyncio.Protocol):
    """One kept-alive connection to a service; one call at a time."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future | None = None
        self.headers: RawHeaders = []
        self.body: list[bytes] = []
        self.closed = False
        self.idle_since = 0.0

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(CutOff(f"unreadable response: {exc}"))
            self.close()

    def eof_received(self) -> bool:
        self.closed = True
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(CutOff(f"connection lost: {exc!r}"))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        waiter, self.waiter = self.waiter, None
        if not self.parser.should_keep_alive():
            self.close()
        if waiter is not None and not waiter.done():
            waiter.set_result((self.parser.get_status_code(), self.headers, b"".join(self.body)))

    def _fail(self, exc: Exception) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def call(self, request: bytes) -> asyncio.Future:
        self.headers, self.body = [], []
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self.waiter

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class Upstream:
    """Each service's idle connections, and the call over one of them."""

    def __init__(self) -> None:
        self._idle: defaultdict[tuple[str, int], list[_Connection]] = defaultdict(list)
        self._origins: dict[str, tuple[str, int]] = {}

    def _origin(self, base_url: str) -> tuple[str, int]:
        origin = self._origins.get(base_url)
        if origin is None:
            parts = urlsplit(base_url)
            origin = self._origins[base_url] = (parts.hostname or "127.0.0.1", parts.port or 80)
        return origin

    def _idle_connection(self, origin: tuple[str, int]) -> _Connection | None:
        idle, now = self._idle[origin], time.monotonic()
        while idle:
            conn = idle.pop()
            if not conn.closed and now - conn.idle_since < IDLE_S:
                return conn
            conn.close()
        return None

    async def call(
        self,
        base_url: str,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes,
        *,
        connect_timeout: float,
    ) -> tuple[int, RawHeaders, bytes]:
        """``method target`` at the service; the caller bounds the whole call in time."""
        origin = self._origin(base_url)
        conn = self._idle_connection(origin)
        if conn is None:
            try:
                async with asyncio.timeout(connect_timeout):
                    _, conn = await asyncio.get_running_loop().create_connection(_Connection, *origin)
            except OSError as exc:
                raise NotSent(f"cannot connect to {base_url}: {exc!r}") from exc
        lines = [f"{method} {target} HTTP/1.1", f"host: {origin[0]}:{origin[1]}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"content-length: {len(body)}")
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        try:
            result = await conn.call(request)
        except BaseException:
            conn.close()  # a timeout or a cancelled call leaves the connection mid-response
            raise
        if not conn.closed:
            idle = self._idle[origin]
            if len(idle) < MAX_IDLE_PER_SERVICE:
                conn.idle_since = time.monotonic()
                idle.append(conn)
            else:
                conn.close()
        return result

    def close(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()


upstream = Upstream()
