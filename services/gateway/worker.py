"""The gateway's arq worker: turns events into webhook deliveries and sends them.

python -m ops.cli worker gateway   (needs "gateway" in ops.devrun.WORKER_SERVICES)
"""

from __future__ import annotations

from arq import cron

from services.gateway.models import pipeline
from services.gateway.webhooks import HANDLERS, deliver_webhooks
from shared.queue import worker_settings

WorkerSettings = worker_settings(
    "gateway",
    pipeline,
    handlers=HANDLERS,
    functions=[deliver_webhooks],
    cron_jobs=[
        cron(
            deliver_webhooks,
            name="deliver_webhooks",
            second=set(range(0, 60, 2)),
            unique=True,
            run_at_startup=True,
            keep_result=0,
            timeout=120,
        )
    ],
)
