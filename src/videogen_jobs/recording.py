"""What running a job writes into its record — one way, whoever runs it.

The HTTP service's :class:`~videogen_jobs.runner.JobRunner` (job threads) and a
Celery worker's :class:`~videogen_adapters.executors.celery.JobTaskRunner`
both report a running job through :class:`ProgressRecorder` and store its end
with :func:`record_succeeded` / :func:`record_failed`; every path that puts a
job back in the queue (restart recovery, a shutdown, a lease keeper) starts it
from scratch with :func:`restart_changes`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from videogen_core import (
    Cancelled,
    CancelToken,
    JobProgress,
    JobRecord,
    JobStore,
    ProgressEvent,
    VideogenError,
)

__all__ = [
    "JOB_STATUSES",
    "TERMINAL_STATUSES",
    "ProgressRecorder",
    "record_failed",
    "record_succeeded",
    "restart_changes",
]

log = logging.getLogger("videogen.jobs")

#: Every status a job can be in, in lifecycle order.
JOB_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
#: Statuses a job never leaves.
TERMINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})


def restart_changes(job: JobRecord, note: str) -> dict[str, Any]:
    """The changes that queue ``job`` again from the beginning, ``note`` added to
    its warnings (why it starts again)."""
    return {"status": "queued", "stage": "", "percent": 0.0, "scenes_done": 0,
            "frames_done": 0, "frames_total": 0, "eta_seconds": None,
            "warnings": [*job.warnings, note]}


def record_succeeded(store: JobStore, job: JobRecord, body: Mapping[str, Any],
                     warnings: list[str]) -> JobRecord:
    """Store ``job`` succeeded with ``body`` (the seed's response) as its result."""
    return store.update(job.id, status="succeeded", stage="done", percent=100.0,
                        eta_seconds=0.0, result=dict(body), scenes_done=job.scenes_total,
                        warnings=[*job.warnings, *warnings])


def record_failed(store: JobStore, job_id: str, exc: Exception,
                  logger: logging.Logger = log) -> JobRecord:
    """Store the end of a job whose work raised ``exc``: ``cancelled`` for
    :class:`Cancelled`, ``failed`` with the error object for a
    :class:`VideogenError`, else ``failed`` with ``internal_error`` (that
    exception goes to ``logger`` with its traceback, never into the record)."""
    if isinstance(exc, Cancelled):
        return store.update(job_id, status="cancelled", eta_seconds=None, error=exc.to_dict())
    if isinstance(exc, VideogenError):
        return store.update(job_id, status="failed", eta_seconds=None, error=exc.to_dict())
    logger.error("job %s: unexpected failure", job_id, exc_info=exc)
    return store.update(job_id, status="failed", eta_seconds=None, error={
        "code": "internal_error", "message": "an unexpected error occurred",
        "details": {"type": type(exc).__name__}})


class ProgressRecorder:
    """The progress port of one running job: pipeline events folded by
    :class:`~videogen_core.JobProgress` into job-store updates (no-ops skipped).

    ``token`` is fired when a write reads back ``cancel_requested`` (another
    process asked to stop the job); ``on_write`` runs after every write tried
    (the runner wakes its waiters). :meth:`touch` renews the record without
    changing it (the lease heartbeat); :attr:`last_write` says when it was
    last written, on ``clock`` (wall time: other hosts compare it).
    """

    def __init__(self, store: JobStore, job: JobRecord, *, token: CancelToken | None = None,
                 on_write: Callable[[], None] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.job_id = job.id
        self.token = token
        self.on_write = on_write
        self.clock = clock
        self.progress = JobProgress(job.scenes_total)
        self.last_write = clock()
        self._lock = threading.Lock()

    def __call__(self, event: ProgressEvent) -> None:
        changes = self.progress.fold(event)
        if changes is None:
            return
        job: JobRecord | None = None
        try:
            with self._lock:
                job = self.store.update(self.job_id, **changes)
                self.last_write = self.clock()
        except VideogenError as exc:
            log.warning("job %s: could not record progress: %s", self.job_id, exc)
        if self.on_write is not None:
            self.on_write()
        if job is not None and job.cancel_requested and self.token is not None:
            self.token.cancel()

    def touch(self) -> JobRecord:
        """Write nothing but a fresh ``updated_at`` (the lease heartbeat)."""
        with self._lock:
            job = self.store.update(self.job_id)
            self.last_write = self.clock()
        return job
