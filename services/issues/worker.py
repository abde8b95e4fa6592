"""arq worker of the issues service: `arq services.issues.worker.WorkerSettings`."""

from services.issues.models import pipeline
from shared.queue import worker_settings

WorkerSettings = worker_settings("issues", pipeline)
