"""The request audit cannot be switched off or emptied by a client (issue 14)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.gateway.audit import COLUMNS, EMPTY_SHA256, AuditWriter
from shared import clock
from shared.db import get_engine, job_session
from tests.servers import free_port


def _row(rid: str, path: str = "/api/v1/units", principal: str | None = "user:zdb") -> tuple:
    values = {
        "at": clock.now(),
        "request_id": rid,
        "principal": principal,
        "role": None,
        "unit_id": None,
        "app_key": None,
        "method": "GET",
        "path": path,
        "query": None,
        "status": 200,
        "code": None,
        "latency_ms": 1.5,
        "body_sha256": EMPTY_SHA256,
        "body_bytes": 0,
        "client_ip": "127.0.0.1",
    }
    return tuple(values[c] for c in COLUMNS)


async def _logged(prefix: str) -> list[tuple[str, str, str | None]]:
    async with job_session() as session:
        rows = await session.execute(
            text(
                "SELECT request_id, path, principal FROM gateway.request_log "
                "WHERE request_id LIKE :p ORDER BY request_id"
            ),
            {"p": prefix + "%"},
        )
        return [tuple(r) for r in rows]


async def test_nul_path_request_is_audited_and_does_not_block_others(platform, audit, uniq):
    # architecture: every call is audited, refusals included; a NUL byte in the decoded
    # path used to fail every batch insert and the batch was retried forever
    async with await platform.as_user("zdb") as c:
        r = await c.get("/api/v1/projects/%00x", headers={"X-Request-ID": f"poison-{uniq}"})
        assert r.status_code == 422, r.text
        r2 = await c.get("/api/v1/units", headers={"X-Request-ID": f"after-{uniq}"})
        assert r2.status_code == 200
    [bad] = await audit(request_id=f"poison-{uniq}")
    [good] = await audit(request_id=f"after-{uniq}")
    assert bad["path"] == "/api/v1/projects/\\x00x" and bad["status"] == 422
    assert bad["code"] == "request.nul_character"
    assert good["status"] == 200


async def test_a_refused_row_is_written_sanitised_and_the_rest_of_its_batch_too(platform, uniq):
    # architecture (audit): a row the database refuses must not take its batch with it;
    # it goes in sanitised (the NUL shown as the four characters \x00)
    writer = AuditWriter()
    # straight into the buffer, past add()'s own cleaning: the database refuses this row
    writer.rows = [
        _row(f"b{uniq}-1"),
        _row(f"b{uniq}-2", principal="user:\x00evil"),
        _row(f"b{uniq}-3"),
        _row(f"b{uniq}-4", path="/api/v1/" + "x" * 600),
    ]
    assert await writer.flush() == 4
    rows = await _logged(f"b{uniq}-")
    assert [r[0] for r in rows] == [f"b{uniq}-{i}" for i in range(1, 5)]
    assert rows[1][2] == "user:\\x00evil"
    assert len(rows[3][1]) == 500  # the path column's width


async def test_service_refusal_codes_are_audited(platform, audit, uniq):
    # policy R18 (units act only on their own projects): a service's refusal is searchable
    # by its code; the audit used to keep code null for every forwarded refusal
    missing = "00000000-0000-4000-8000-000000000000"
    async with await platform.as_user("zdb") as c:
        r = await c.get(f"/api/v1/projects/{missing}", headers={"X-Request-ID": f"nf-{uniq}"})
    assert r.status_code == 404, r.text
    [row] = await audit(request_id=f"nf-{uniq}")
    assert row["status"] == 404 and row["code"] == r.json()["code"] == "project.not_found"


async def test_full_buffer_and_shutdown_spill_to_disk_and_nothing_is_dropped(platform, tmp_path, uniq):
    # architecture (audit): with the database away, rows past the buffer's bound and those
    # left at shutdown are kept on disk and written when it comes back
    spill = str(tmp_path / "spill.jsonl")
    dead = create_async_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/kpp")
    writer = AuditWriter(engine=lambda: dead, spill_path=spill, buffer_max=1000)
    try:
        for i in range(2500):
            writer.add(_row(f"s{uniq}-{i:05d}"))
        assert await writer.flush() == 0  # the database is away
        assert len(writer.rows) < 1000 and writer.spilled >= 2000
        await writer.stop()  # shutdown with the database still away: the rest is spilled
        assert writer.rows == [] and writer.spilled == 2500
    finally:
        await dead.dispose()
    # the next start (the database back) writes every row once
    again = AuditWriter(engine=get_engine, spill_path=spill)
    assert await again.flush() == 2500
    rows = await _logged(f"s{uniq}-")
    assert len(rows) == 2500 and len({r[0] for r in rows}) == 2500
    assert not (tmp_path / "spill.jsonl").exists()
