"""arq worker of the scoring service: `arq services.scoring.worker.WorkerSettings`."""

from arq import func

from services.scoring.consumers import HANDLERS
from services.scoring.jobs import MONTHLY_CRON, monthly_assessment
from services.scoring.models import pipeline
from shared.queue import worker_settings

WorkerSettings = worker_settings(
    "scoring",
    pipeline,
    handlers=HANDLERS,
    functions=[func(monthly_assessment, name="monthly_assessment")],
    cron_jobs=[MONTHLY_CRON],
)
