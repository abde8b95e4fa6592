"""The hot path's one Redis round trip: nonce + rate limit as one script, auto-pipelined.

Every outside request makes exactly one Redis call (a signed one: nonce ``SET NX EX`` and
the rate-limit ``INCR`` + ``EXPIRE NX``; a bearer one: the rate-limit part only). redis-py
spent more CPU per call than the round trip itself (pool checkout with a readiness probe,
pipeline objects, two timeouts each creating a task), so these calls go over one plain
connection: each is one ``EVALSHA`` appended to a buffer that is written once per event
loop turn (concurrent requests share a write), replies are matched in order (RESP answers
in order), parsed by hiredis. A call waits at most ``timeout`` seconds; a lost connection
fails the calls in flight (→ 503 at the guard) and the next call reconnects.
Non-``redis://`` URLs (TLS, unix sockets) go through redis-py with the same scripts.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import deque
from typing import Any
from urllib.parse import unquote, urlsplit

import hiredis
from redis.asyncio import Redis
from redis.exceptions import ResponseError

# the window counter: INCR, and a 61 s expiry set only if it has none (EXPIRE NX)
USER_SCRIPT = b"""
local n = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1], 'NX')
return n
"""
# the nonce is remembered (SET NX EX) and the window counted, replayed or not
SIGNED_SCRIPT = b"""
local fresh = redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1])
local n = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[2], 'NX')
if fresh then return {1, n} end
return {0, n}
"""
_SHA = {s: hashlib.sha1(s).hexdigest().encode() for s in (USER_SCRIPT, SIGNED_SCRIPT)}


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.reader = hiredis.Reader()
        self.waiting: deque[asyncio.Future] = deque()
        self.transport: asyncio.Transport | None = None
        self.lost: BaseException | None = None
        self._out: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while (reply := self.reader.gets()) is not False:
            fut = self.waiting.popleft()
            if not fut.done():  # a caller that timed out is gone; its reply is skipped
                fut.set_result(reply)

    def connection_lost(self, exc: BaseException | None) -> None:
        self.lost = exc or ConnectionError("Redis closed the connection")
        while self.waiting:
            fut = self.waiting.popleft()
            if not fut.done():
                fut.set_exception(ConnectionError(f"Redis connection lost: {self.lost!r}"))

    def send(self, command: bytes) -> asyncio.Future:
        fut = self.loop.create_future()
        self.waiting.append(fut)
        if not self._out:
            self.loop.call_soon(self._flush)
        self._out.append(command)
        return fut

    def _flush(self) -> None:
        data, self._out = b"".join(self._out), []
        if self.lost is None and self.transport is not None:
            self.transport.write(data)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class HotRedis:
    """The two hot-path scripts over one auto-pipelined connection."""

    def __init__(self, url: str, timeout: float = 2.0) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 6379
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        db = parts.path.lstrip("/")
        self.db = int(db) if db else 0
        self.timeout = timeout
        self._conn: _Connection | None = None
        self._connecting: asyncio.Future | None = None

    async def _connection(self) -> _Connection:
        conn = self._conn
        if conn is not None and conn.lost is None and conn.loop is asyncio.get_running_loop():
            return conn
        if self._connecting is None or self._connecting.get_loop() is not asyncio.get_running_loop():
            self._connecting = asyncio.ensure_future(self._connect())
        try:
            return await asyncio.shield(self._connecting)
        finally:
            if self._connecting is not None and self._connecting.done():
                self._connecting = None

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(self.timeout):
            _, conn = await loop.create_connection(_Connection, self.host, self.port)
            try:
                if self.password is not None:
                    auth = (
                        (b"AUTH", self.username, self.password) if self.username else (b"AUTH", self.password)
                    )
                    _raise_error(await conn.send(hiredis.pack_command(auth)))
                if self.db:
                    _raise_error(await conn.send(hiredis.pack_command((b"SELECT", self.db))))
            except BaseException:
                conn.close()
                raise
        if self._conn is not None:
            self._conn.close()
        self._conn = conn
        return conn

    async def eval(self, script: bytes, keys: tuple, args: tuple) -> Any:
        conn = await self._connection()
        async with asyncio.timeout(self.timeout):
            reply = await conn.send(hiredis.pack_command((b"EVALSHA", _SHA[script], len(keys), *keys, *args)))
            if isinstance(reply, hiredis.ReplyError) and str(reply).startswith("NOSCRIPT"):
                reply = await conn.send(hiredis.pack_command((b"EVAL", script, len(keys), *keys, *args)))
        return _raise_error(reply)

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class PyRedisScripts:
    """The same scripts through redis-py (URLs the plain connection does not speak)."""

    def __init__(self, client: Redis) -> None:
        self.client = client

    async def eval(self, script: bytes, keys: tuple, args: tuple) -> Any:
        return await self.client.eval(script, len(keys), *keys, *args)

    async def close(self) -> None:  # the client is closed with the gateway's redis-py client
        return None


def _raise_error(reply: Any) -> Any:
    if isinstance(reply, hiredis.ReplyError):
        raise ResponseError(str(reply))
    return reply
