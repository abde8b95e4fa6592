"""The gateway's forwarding client (upstream.py): kept-alive connections, whole answers,
and a connection the service closed is never used again (issue 15)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from aiohttp import web

from services.gateway.upstream import NotSent, Upstream
from tests.servers import free_port


@contextlib.asynccontextmanager
async def service(keepalive_timeout: float = 75.0):
    """A loopback HTTP service: /echo answers method, path, query and body; /chunked streams;
    every answer names the connection it came over (the client's port)."""
    seen_ports: list[int] = []

    async def echo(request: web.Request) -> web.Response:
        seen_ports.append(request.transport.get_extra_info("peername")[1])
        return web.json_response(
            {"method": request.method, "path": request.raw_path, "body": (await request.read()).decode()},
            headers={"ETag": '"7"'},
        )

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for part in (b"first,", b"second,", b"third"):
            await response.write(part)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/chunked", chunked)
    runner = web.AppRunner(app, access_log=None, keepalive_timeout=keepalive_timeout)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}", seen_ports
    finally:
        await runner.cleanup()


async def test_calls_reuse_one_connection_and_carry_method_path_query_and_body():
    # issue 15: no connection set-up per forwarded request
    client = Upstream()
    try:
        async with service() as (url, ports):
            for k in range(3):
                status, headers, body = await client.call(
                    url,
                    "POST",
                    f"/echo?k={k}",
                    {"content-type": "application/json"},
                    b'{"n": 1}',
                    connect_timeout=2,
                )
                assert status == 200
                assert (b"etag", b'"7"') in headers
                assert body.decode().startswith('{"method": "POST", "path": "/echo?k=' + str(k))
            assert len(set(ports)) == 1
    finally:
        client.close()


async def test_a_chunked_answer_arrives_whole():
    # issue 15: the gateway forwards the service's whole answer
    client = Upstream()
    try:
        async with service() as (url, _):
            status, _, body = await client.call(url, "GET", "/chunked", {}, b"", connect_timeout=2)
        assert (status, body) == (200, b"first,second,third")
    finally:
        client.close()


async def test_a_connection_the_service_closed_is_not_reused():
    # issue 15: a kept-alive connection closed by the service while idle is replaced, so
    # the next call is answered instead of failing as a 503
    client = Upstream()
    try:
        async with service(keepalive_timeout=0.1) as (url, ports):
            assert (await client.call(url, "GET", "/echo", {}, b"", connect_timeout=2))[0] == 200
            await asyncio.sleep(0.5)  # the service closes the idle connection meanwhile
            assert (await client.call(url, "GET", "/echo", {}, b"", connect_timeout=2))[0] == 200
        assert len(set(ports)) == 2
    finally:
        client.close()


async def test_a_service_not_listening_is_reported_as_never_sent():
    # architecture: a service that is down → 503 naming it; nothing reached it, so an
    # Idempotency-Key is released rather than marked "outcome unknown"
    client = Upstream()
    with pytest.raises(NotSent):
        await client.call(f"http://127.0.0.1:{free_port()}", "POST", "/echo", {}, b"{}", connect_timeout=2)
