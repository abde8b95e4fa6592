"""arq worker of the registry: `arq services.registry.worker.WorkerSettings`."""

from services.registry.models import pipeline
from shared.queue import worker_settings

WorkerSettings = worker_settings("registry", pipeline)
