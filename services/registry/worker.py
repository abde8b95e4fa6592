"""arq worker of the registry: `arq services.registry.worker.WorkerSettings`."""

from arq import cron, func

from services.registry.jobs import daily_rules
from services.registry.models import pipeline
from shared.queue import worker_settings

# 01:30 UTC = 09:30 Asia/Shanghai, after the working day's start; unique across replicas
WorkerSettings = worker_settings(
    "registry",
    pipeline,
    functions=[func(daily_rules, name="daily_rules")],
    cron_jobs=[
        cron(
            daily_rules, name="daily_rules", hour={1}, minute={30}, unique=True, timeout=600, keep_result=3600
        )
    ],
)
