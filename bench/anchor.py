"""The bare stack beneath a KPP service: FastAPI + asyncpg, no KPP code (bench/stack_overhead).

    uvicorn bench.anchor:app      (KPP_DATABASE_URL names the scratch database)

Reads one registry project (``SELECT * … WHERE id = $1`` → JSON) and writes one progress
report (``INSERT … RETURNING`` and an outbox row in one transaction): what a KPP request
would cost if the platform added nothing to the framework and the driver.
"""

from __future__ import annotations

import itertools
import json
import os
import uuid
from contextlib import asynccontextmanager
from decimal import Decimal

import asyncpg
from fastapi import FastAPI, Request, Response

POOL: dict[str, asyncpg.Pool] = {}
# unique (project_id, month, version) for the non-current rows the anchor writes
VERSIONS = itertools.count(1_000_000)


@asynccontextmanager
async def lifespan(app: FastAPI):
    url = os.environ["KPP_DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    size = int(os.environ.get("KPP_DB_POOL_SIZE", "20"))
    POOL["db"] = await asyncpg.create_pool(url, min_size=size, max_size=size)
    yield
    await POOL["db"].close()


app = FastAPI(lifespan=lifespan)


@app.get("/api/v1/projects/{project_id}")
async def read(project_id: uuid.UUID) -> Response:
    row = await POOL["db"].fetchrow("SELECT * FROM registry.projects WHERE id = $1", project_id)
    if row is None:
        return Response(status_code=404)
    return Response(json.dumps(dict(row), default=str, ensure_ascii=False), media_type="application/json")


@app.post("/api/v1/projects/{project_id}/progress", status_code=201)
async def write(project_id: uuid.UUID, request: Request) -> Response:
    body = await request.json()
    async with POOL["db"].acquire() as conn, conn.transaction():
        report_id = await conn.fetchval(
            "INSERT INTO registry.progress_reports (id, project_id, month, version, current,"
            " investment_month, cumulative_investment, exceeds_total, progress_pct, reporter,"
            " on_time) VALUES ($1, $2, $3, $4, false, $5, $6, false, $7, 'bench', true)"
            " RETURNING id",
            uuid.uuid4(),
            project_id,
            body["month"],
            next(VERSIONS),
            Decimal(body["investment_month"]),
            Decimal(body["cumulative_investment"]),
            Decimal(body["progress_pct"]),
        )
        await conn.execute(
            "INSERT INTO registry.outbox (id, type, key, payload)"
            " VALUES ($1, 'project.progress_reported', $2, $3::jsonb)",
            uuid.uuid4(),
            str(project_id),
            json.dumps({"project_id": str(project_id), "report_id": str(report_id), **body}),
        )
    return Response(json.dumps({"id": str(report_id)}), status_code=201, media_type="application/json")
