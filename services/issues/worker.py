"""arq worker of the issues service: `arq services.issues.worker.WorkerSettings`."""

from arq import func

from services.issues.consumers import HANDLERS
from services.issues.jobs import CRON_JOBS, sweep_supervision
from services.issues.models import pipeline
from shared.queue import worker_settings

WorkerSettings = worker_settings(
    "issues",
    pipeline,
    handlers=HANDLERS,
    functions=[func(sweep_supervision, name="sweep_supervision")],
    cron_jobs=CRON_JOBS,
)
