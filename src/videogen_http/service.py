"""The per-app service object: settings, container, job runner — and the job work."""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from flask import current_app

from videogen_adapters.config import Settings
from videogen_adapters.converter import result_to_response, structure_request
from videogen_adapters.workdirs import process_work_dir, sweep, work_root
from videogen_core import CancelToken, JobRecord, ProgressEvent
from videogen_jobs.completion import CompletionCallbacks
from videogen_jobs.lease import LeaseKeeper, is_stale
from videogen_jobs.presenters import job_to_dict
from videogen_jobs.runner import JobRunner

from .containers import Container
from .lock import DataDirLock

__all__ = ["SYNC_TIMEOUT_SECONDS", "Service", "current_service", "default_base_url",
           "stop_all_jobs"]

log = logging.getLogger("videogen.http")

#: With Celery workers a synchronous request waits this long, then answers 202
#: with the job's status URL (the job keeps running).
SYNC_TIMEOUT_SECONDS = 600.0


#: CPU niceness added to the threads running jobs (and so to the render threads
#: and ffmpeg processes they start): under load the cores go to request handling
#: first (``/healthz``, status calls, submissions), rendering takes what is left.
JOB_NICENESS = 10

_niced = threading.local()


def nicer_thread(increment: int) -> None:
    """Make the calling thread ``increment`` steps nicer, once per thread (Linux:
    niceness is per thread, and threads and processes it starts inherit it);
    elsewhere, or when not allowed, nothing."""
    if increment <= 0 or getattr(_niced, "done", False):
        return
    _niced.done = True
    try:
        tid = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, current + increment))
    except (AttributeError, OSError):
        pass


def default_base_url(settings: Settings) -> str:
    """``VIDEOGEN_PUBLIC_BASE_URL``, else ``http://{host}:{port}``."""
    return (settings.public_base_url or f"http://{settings.host}:{settings.port}").rstrip("/")


class Service:
    """Everything the views need, built once per app by :func:`create_app`."""

    def __init__(self, settings: Settings, container: Container, *,
                 recovery: str = "resume") -> None:
        self.settings = settings
        self.container = container
        self.base_url = default_base_url(settings)
        self.lock: DataDirLock | None = None
        if settings.job_store == "sqlite":
            self.lock = DataDirLock(settings.state_dir)
            self.lock.acquire()
        dispatcher = container.dispatcher()  # None: jobs run on this process's threads
        #: The completion hook: the callback a finished job's request asked for.
        self.on_finish = CompletionCallbacks(
            container.callbacks, self.base_url,
            cancel_requested=lambda job_id: self.runner.cancel_requested(job_id))
        # temporary files of jobs a killed process left behind go now
        root = work_root(settings)
        sweep(root)
        if dispatcher is None:
            process_work_dir(root)
        self.runner = JobRunner(container.job_store(), self.work, max_jobs=settings.max_jobs,
                                max_queue=settings.max_queue, on_finish=self.on_finish,
                                dispatcher=dispatcher,
                                sync_timeout=None if dispatcher is None else SYNC_TIMEOUT_SECONDS)
        self.recovery = recovery
        #: Celery mode: this server re-queues jobs whose worker died (lease expired).
        self.lease_keeper: LeaseKeeper | None = None
        if dispatcher is not None:
            self.lease_keeper = LeaseKeeper(self.runner.store, dispatcher.submit,
                                            on_end=self.on_finish,
                                            name="API server").start()
        #: Synchronous requests and event streams hold a server thread while their job
        #: runs; they share these slots, so two threads stay free for status, new
        #: jobs and health checks.
        self.held_slots = max(1, settings.threads - 2)
        self.sync_slots = threading.BoundedSemaphore(self.held_slots)
        _LIVE.add(self)

    def stop_jobs(self) -> None:
        """Before the process exits (``videogen serve`` on SIGTERM): stop the running
        jobs, which remove their work dirs and are stored ``queued`` again, so the
        next start resumes them. Must run before interpreter shutdown begins (the
        thread pools refuse work from then on)."""
        self.runner.shutdown(10.0, requeue=True)

    # ---------------------------------------------------------------- jobs
    def work(self, job: JobRecord, progress: Callable[[ProgressEvent], None],
             cancel: CancelToken) -> tuple[Mapping[str, Any], list[str]]:
        """Run one job through the pipeline; the seed's response body and the warnings.
        The job's thread runs :data:`JOB_NICENESS` steps nicer than the process
        (once per thread): the render threads and ffmpeg processes it starts
        inherit that, so request handling wins the CPU over rendering."""
        nicer_thread(JOB_NICENESS)
        sequence = structure_request(job.request)
        pipeline = self.container.pipeline()
        result = pipeline.run(job.folder_id, sequence, progress=progress, cancel=cancel,
                              name=job.id)
        return result_to_response(result), list(result.warnings)

    def job_dict(self, job: JobRecord, base_url: str | None = None) -> dict[str, Any]:
        """The job's JSON representation."""
        return job_to_dict(job, base_url or self.base_url,
                           cancel_requested=job.cancel_requested
                           or self.runner.cancel_requested(job.id),
                           # only workers renew leases; this process's own jobs are live
                           stale=self.runner.dispatcher is not None and is_stale(job))

    def close(self) -> None:
        """Stop the runner threads and the callback sender; free the data dir (tests)."""
        _LIVE.discard(self)
        if self.lease_keeper is not None:
            self.lease_keeper.stop()
        self.runner.shutdown()
        close_dispatcher = getattr(self.runner.dispatcher, "close", None)
        if close_dispatcher is not None:
            close_dispatcher()
        self.container.callbacks().close()
        if self.lock is not None:
            self.lock.release()


#: Services of this process that were not closed (see :func:`stop_all_jobs`).
_LIVE: weakref.WeakSet[Service] = weakref.WeakSet()


def stop_all_jobs() -> None:
    """Stop the running jobs of every live service, storing them ``queued`` again
    (``videogen serve`` calls it when SIGTERM ended waitress)."""
    for service in list(_LIVE):
        service.stop_jobs()


def current_service() -> Service:
    """The Service of the app handling the current request."""
    service: Service = current_app.extensions["videogen"]
    return service
