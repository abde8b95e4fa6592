"""Running a service's workers: the event worker and the cron worker in one process, each
riding out a Redis outage (reconnect with back-off) instead of exiting (issue 11).

    python -m ops.cli worker <service>
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from arq.worker import create_worker
from redis.exceptions import RedisError

log = logging.getLogger("kpp.worker")

# reconnect after 0.5 s, doubling up to 10 s, while Redis is away
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 10.0


async def supervise(settings: Any, stop: asyncio.Event) -> None:
    """Run one arq worker until ``stop``; a lost Redis connection restarts it after a pause."""
    delay = BACKOFF_FIRST_S
    while not stop.is_set():
        worker = create_worker(settings, handle_signals=False)
        main = asyncio.ensure_future(worker.main())
        stopper = asyncio.ensure_future(stop.wait())
        try:
            done, _ = await asyncio.wait({main, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if main in done:
                main.result()  # raises what ended it
                return
            main.cancel()
            await asyncio.gather(main, return_exceptions=True)
            return
        except (RedisError, OSError) as exc:
            log.warning(
                "%s: Redis unavailable (%s); reconnecting in %.1f s",
                settings.queue_name,
                type(exc).__name__,
                delay,
            )
            if stop.is_set():
                return
            try:
                await asyncio.wait_for(stop.wait(), delay)
            except TimeoutError:
                pass
            delay = min(delay * 2, BACKOFF_MAX_S)
        else:
            delay = BACKOFF_FIRST_S
        finally:
            stopper.cancel()
            try:
                await worker.close()
            except Exception:  # Redis may still be away: nothing left to close cleanly
                pass


async def run_service_workers(module: Any) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    settings = [module.WorkerSettings, module.WorkerSettings.CronWorkerSettings]
    await asyncio.gather(*(supervise(s, stop) for s in settings))
