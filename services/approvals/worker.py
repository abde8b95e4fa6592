"""arq worker of the approvals service: `arq services.approvals.worker.WorkerSettings`."""

from arq import cron, func

from services.approvals.jobs import clock_due, sweep_clocks
from services.approvals.models import pipeline
from shared.queue import EVENT_TIMEOUT_S, worker_settings

# every five minutes, unique across replicas (arq cron ids); thresholds are at 00:00 and the
# exact jobs it schedules fire on the second
SWEEP = cron(
    sweep_clocks,
    name="sweep_clocks",
    minute=set(range(0, 60, 5)),
    second=0,
    unique=True,
    run_at_startup=True,
    timeout=300,
    keep_result=0,
)

WorkerSettings = worker_settings(
    "approvals",
    pipeline,
    functions=[
        func(sweep_clocks, name="sweep_clocks"),
        func(clock_due, name="clock_due", timeout=EVENT_TIMEOUT_S),
    ],
    cron_jobs=[SWEEP],
)
