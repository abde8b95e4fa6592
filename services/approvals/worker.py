"""arq worker of the approvals service: `arq services.approvals.worker.WorkerSettings`."""

from services.approvals.models import pipeline
from shared.queue import worker_settings

WorkerSettings = worker_settings("approvals", pipeline)
