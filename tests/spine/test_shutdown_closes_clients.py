"""A stopping process closes its connections to the other services (architecture: a clean
restart). Before, a worker stopped by `make up`'s Ctrl-C logged "Unclosed client session"
for the HTTP client its handlers had opened to read the registry."""

from __future__ import annotations

from services.issues.models import pipeline
from shared.http import service_client
from shared.queue import worker_settings


async def test_worker_shutdown_closes_the_service_client():
    opened = service_client.session  # as a handler reading the registry would
    await worker_settings("issues", pipeline).on_shutdown({})
    assert opened.closed
