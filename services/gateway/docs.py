"""The merged OpenAPI document and its Swagger page, at the usual URLs."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from services.gateway.openapi import merged_openapi

OPENAPI_URL = "/openapi.json"
docs = APIRouter(include_in_schema=False)


@docs.get(OPENAPI_URL)
async def openapi_json(request: Request) -> JSONResponse:
    """The gateway's paths and every service's public paths (``openapi.merge``)."""
    return JSONResponse(await merged_openapi.document(request.app))


@docs.get("/docs")
async def swagger_page(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(openapi_url=OPENAPI_URL, title=f"{request.app.title} - Swagger UI")
