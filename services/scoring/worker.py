"""arq worker of the scoring service: `arq services.scoring.worker.WorkerSettings`."""

from services.scoring.consumers import HANDLERS
from services.scoring.models import pipeline
from shared.queue import worker_settings

WorkerSettings = worker_settings("scoring", pipeline, handlers=HANDLERS)
