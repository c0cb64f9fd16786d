"""The job runner: a bounded pool of job threads over a durable job store.

At most ``max_jobs`` jobs run at once and at most ``max_queue`` wait; a job
beyond that is refused with :class:`~videogen_core.Busy` (HTTP 429 with
Retry-After). Every state change is written to the :class:`JobStore` first,
so a restarted server knows every job: :meth:`JobRunner.recover` re-queues
the jobs it finds queued or running (or marks them failed with the reason).
Recovery assumes this process is the only runner of the store: the SQLite
store's data dir is locked (the HTTP service's :mod:`videogen_http.lock`); with a shared store
(Redis) start-up recovery would also take jobs other live servers run.
Each job has a :class:`CancelToken`; :meth:`JobRunner.cancel` fires it and the
pipeline stops between steps and removes its temporary files.

With a :class:`JobDispatcher` (``VIDEOGEN_EXECUTOR=celery``) the runner runs
nothing itself: a new job is stored and handed to the dispatcher (Celery
workers render it and write its progress into the shared store), waiting and
events poll the store, cancelling a running job sets its ``cancel_requested``
flag for the worker to see, and start-up recovery is left to the lease
keepers (:mod:`videogen_jobs.lease`: a job whose worker died is
re-queued and published again). The queue bound then counts the
jobs waiting in the shared store (``JobStore.count("queued")``: every API
server's jobs not yet taken by a worker), so clients cannot flood the broker;
the store checks the count and stores the job in one transaction
(``JobStore.create(job, limit=...)``), so servers accepting at the same instant
cannot pass the bound together.
"""

from __future__ import annotations

import contextlib
import logging
import math
import queue
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from videogen_core import (
    Busy,
    Cancelled,
    CancelToken,
    JobRecord,
    JobStore,
    NotFound,
    ProgressEvent,
    ServiceUnavailable,
    VideogenError,
)

from .errors import Conflict
from .recording import (
    TERMINAL_STATUSES,
    ProgressRecorder,
    record_failed,
    record_succeeded,
    restart_changes,
)

__all__ = ["TERMINAL", "JobDispatcher", "JobRunner", "JobWork"]

log = logging.getLogger("videogen.jobs")

#: Statuses a job never leaves (:data:`~videogen_jobs.recording.TERMINAL_STATUSES`).
TERMINAL = TERMINAL_STATUSES

#: ``work(job, progress, cancel) -> (result body, warnings)``: runs one job.
JobWork = Callable[[JobRecord, Callable[[ProgressEvent], None], CancelToken],
                   tuple[Mapping[str, Any], list[str]]]

#: Seconds between job-store reads while waiting on jobs run by other processes.
REMOTE_POLL_SECONDS = 0.25


class JobDispatcher(Protocol):
    """Hands stored jobs to workers in other processes (the Celery executor)."""

    def submit(self, job_id: str) -> None:
        """Queue the stored job; ServiceUnavailable when the queue is unreachable."""
        ...

    def revoke(self, job_id: str) -> None:
        """Drop the job's queued message if possible (best effort)."""
        ...


class JobRunner:
    """Runs jobs from ``store`` with ``work`` on ``max_jobs`` threads.

    ``on_finish(job)`` is called (in the job's thread) after a job reached a
    terminal status — the HTTP app sends callbacks from there. Threads start
    on the first submitted job; they are daemons, a job interrupted by the
    process ending stays ``running`` in the store and is recovered next start.
    """

    def __init__(self, store: JobStore, work: JobWork, *, max_jobs: int = 2,
                 max_queue: int = 16, retry_after: int = 5,
                 on_finish: Callable[[JobRecord], None] | None = None,
                 dispatcher: JobDispatcher | None = None,
                 sync_timeout: float | None = None) -> None:
        self.store = store
        #: Runs jobs elsewhere when set (remote mode); None runs them on our threads.
        self.dispatcher = dispatcher
        #: How long a synchronous request waits for its job (None: until it ends).
        self.sync_timeout = sync_timeout
        self.work = work
        self.max_jobs = max(1, max_jobs)
        self.max_queue = max(0, max_queue)
        self.retry_after = retry_after
        self.on_finish = on_finish
        # unbounded: the bound applies to new jobs (create); recovered jobs were accepted already
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._tokens: dict[str, CancelToken] = {}
        self._lock = threading.RLock()
        self._changed = threading.Condition(threading.Lock())
        self._threads: list[threading.Thread] = []
        self._running = 0
        self._closed = False
        self._requeue_interrupted = False  # shutdown(requeue=True): stopped jobs wait again
        self._user_cancelled: set[str] = set()
        self._mean_seconds: float | None = None  # moving average of finished jobs' run time

    # ------------------------------------------------------------ creation
    def create(self, folder_id: str, request: Mapping[str, Any], *, scenes_total: int = 0,
               idempotency_key: str | None = None) -> tuple[JobRecord, bool]:
        """Store a new queued job and submit it; ``(job, created)`` — with a known
        ``idempotency_key`` the existing job and False (also when the queue is
        full). Busy when the queue is full — ``max_queue`` jobs waiting in this
        process, or in remote mode in the store — nothing is stored then. In
        remote mode ServiceUnavailable (with ``retry_after``) when the dispatcher
        cannot queue the job — it is deleted again, nothing is kept."""
        job = JobRecord(id=uuid.uuid4().hex, folder_id=folder_id, request=dict(request),
                        scenes_total=scenes_total, idempotency_key=idempotency_key,
                        created_at=time.time(),
                        base_url=str(getattr(self.dispatcher, "base_url", "") or ""))
        with self._lock:
            known = self._by_key(idempotency_key)
            if known is not None:
                return known, False
            # local: this process's queue; remote: the shared store counts its queued
            # jobs and stores the new one in one atomic step
            remote = self.dispatcher is not None
            if not remote and self._queue.qsize() >= self.max_queue:
                raise self._busy()
            try:
                stored = self.store.create(job, limit=self.max_queue if remote else None)
            except Busy:
                raise self._busy() from None
            if stored.id != job.id:
                return stored, False
            if self.dispatcher is None:
                self._enqueue(stored.id)
        if self.dispatcher is not None:
            self._dispatch(stored.id)
        log.info("job %s queued: folder %s, %d scenes", stored.id, folder_id, scenes_total)
        self._notify()
        return stored, True

    def _by_key(self, key: str | None) -> JobRecord | None:
        finder = getattr(self.store, "find_by_idempotency_key", None)
        if key is None or finder is None:
            return None
        found: JobRecord | None = finder(key)
        return found

    def suggested_retry_after(self) -> int:
        """Seconds until a queue slot is likely free: the average job's run time
        (moving average of finished jobs) spread over the running slots; the
        configured ``retry_after`` until a job has finished. Between 1 and 600."""
        if self._mean_seconds is None:
            return self.retry_after
        return max(1, min(600, math.ceil(self._mean_seconds / self.max_jobs)))

    def _record_duration(self, seconds: float) -> None:
        with self._lock:
            if self._mean_seconds is None:
                self._mean_seconds = seconds
            else:
                self._mean_seconds = 0.7 * self._mean_seconds + 0.3 * seconds

    def _busy(self) -> Busy:
        """The refusal when ``max_queue`` jobs wait (429 with Retry-After)."""
        return Busy(f"{self.max_queue} jobs are already waiting; retry later",
                    retry_after=self.suggested_retry_after())

    def _enqueue(self, job_id: str) -> None:
        self._tokens[job_id] = CancelToken()
        self._queue.put_nowait(job_id)
        self._start_threads()

    def _dispatch(self, job_id: str) -> None:
        """Hand the stored job to the dispatcher; when it cannot take it (broker
        down) the job is forgotten again — a refused submission stores nothing —
        and ServiceUnavailable says when to retry (503 with Retry-After)."""
        assert self.dispatcher is not None
        try:
            self.dispatcher.submit(job_id)
        except ServiceUnavailable as exc:
            log.error("job %s could not be queued: %s", job_id, exc.message)
            try:
                self.store.delete(job_id)
            except VideogenError:  # the store failing too: at least say why it ended
                with contextlib.suppress(VideogenError):
                    self.store.update(job_id, status="failed", eta_seconds=None,
                                      error=exc.to_dict())
            details = {k: v for k, v in exc.details.items() if k not in ("service", "reason")}
            details["retry_after"] = self.retry_after
            raise ServiceUnavailable(exc.service, str(exc.details.get("reason", exc.message)),
                                     **details) from exc

    def _start_threads(self) -> None:
        if self._threads or self._closed:
            return
        for i in range(self.max_jobs):
            thread = threading.Thread(target=self._loop, name=f"videogen-job-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)

    # ------------------------------------------------------------ recovery
    def recover(self, policy: str = "resume") -> list[JobRecord]:
        """Deal with jobs a previous process left queued or running: re-queue them
        all (``resume``; they restart from the beginning, finished clips come from
        the render cache; the queue bound does not apply, they were accepted
        already) or mark them failed (``fail``) — with a warning or a reason.
        In remote mode nothing: the lease keepers re-queue jobs whose worker died."""
        if self.dispatcher is not None:
            return []
        handled = []
        for job in self.store.list(("queued", "running")):
            with self._lock:
                if job.id in self._tokens:
                    continue  # ours, already queued in this process
                was = job.status if job.status == "queued" else f"running ({job.stage or '?'})"
                if policy == "resume":
                    note = f"resumed after a server restart (it was {was})"
                    job = self.store.update(job.id, **restart_changes(job, note))
                    self._enqueue(job.id)
                    log.info("job %s re-queued after restart (was %s)", job.id, was)
                else:
                    reason = f"the server restarted while the job was {was}"
                    job = self.store.update(job.id, status="failed", eta_seconds=None, error={
                        "code": "interrupted", "message": reason, "details": {"was": was}})
                    log.warning("job %s failed at start-up: %s", job.id, reason)
            handled.append(job)
        self._notify()
        return handled

    # ---------------------------------------------------------- inspection
    def get(self, job_id: str) -> JobRecord:
        """The stored job (NotFound when unknown)."""
        return self.store.get(job_id)

    def wait(self, job_id: str, timeout: float | None = None) -> JobRecord:
        """Block until the job is terminal (or ``timeout`` passed); the latest record."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.store.get(job_id)
            if job.status in TERMINAL:
                return job
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return job
            self.wait_for_change(min(1.0, left) if left is not None else 1.0)

    def wait_for_change(self, timeout: float) -> None:
        """Sleep until any job changes (or ``timeout`` seconds); in remote mode
        a short sleep, as changes come from other processes through the store."""
        if self.dispatcher is not None:
            time.sleep(max(0.0, min(timeout, REMOTE_POLL_SECONDS)))
            return
        with self._changed:
            self._changed.wait(timeout)

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    # --------------------------------------------------------------- cancel
    def cancel(self, job_id: str) -> JobRecord:
        """Cancel a queued job at once, or ask a running one to stop (it turns
        ``cancelled`` when the pipeline has stopped). Conflict for finished jobs."""
        if self.dispatcher is not None:
            return self._cancel_remote(job_id)
        with self._lock:
            job = self._cancellable(job_id)
            if job.status == "cancelled":
                return job
            token = self._tokens.get(job_id)
            if token is None and job.status == "running":
                # only possible with a store shared by several servers (Redis)
                raise Conflict(f"job {job_id} is running in another server process",
                               job_id=job_id, status=job.status)
            if job.status == "queued":
                job = self.store.update(job_id, status="cancelled", eta_seconds=None,
                                        error=Cancelled().to_dict())
                log.info("job %s cancelled while queued", job_id)
            if token is not None:
                self._user_cancelled.add(job_id)
                token.cancel()
        self._notify()
        if job.status == "cancelled":
            self._finished(job)
        else:
            log.info("job %s: cancellation requested", job_id)
        return job

    def _cancellable(self, job_id: str) -> JobRecord:
        """The job, unless it already ended otherwise than cancelled (Conflict)."""
        job = self.store.get(job_id)
        if job.status in TERMINAL and job.status != "cancelled":
            raise Conflict(f"job {job_id} already {job.status}", job_id=job_id,
                           status=job.status)
        return job

    def _cancel_remote(self, job_id: str) -> JobRecord:
        """Remote mode: a queued job is cancelled at once (its message revoked); a
        running one gets ``cancel_requested`` and its worker stops it."""
        job = self._cancellable(job_id)
        if job.status == "cancelled":
            return job
        if job.status == "queued":
            # the flag too: a worker claiming the job right now still sees it
            job = self.store.update(job_id, status="cancelled", cancel_requested=True,
                                    eta_seconds=None, error=Cancelled().to_dict())
            assert self.dispatcher is not None
            self.dispatcher.revoke(job_id)
            log.info("job %s cancelled while queued", job_id)
            self._finished(job)
            return job
        job = self.store.update(job_id, cancel_requested=True)
        log.info("job %s: cancellation requested from its worker", job_id)
        return job

    def cancel_requested(self, job_id: str) -> bool:
        """Whether this process was asked to cancel ``job_id``."""
        token = self._tokens.get(job_id)
        return token is not None and token.cancelled

    # ------------------------------------------------------------- running
    def _loop(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None:
                return
            try:
                self._run(job_id)
            except Exception:  # noqa: BLE001 - one broken job must not kill the worker
                log.exception("job %s: runner failure", job_id)
            finally:
                self._tokens.pop(job_id, None)

    def _run(self, job_id: str) -> None:
        with self._lock:
            token = self._tokens.get(job_id) or CancelToken()
            try:
                job = self.store.get(job_id)
            except NotFound:
                return
            if job.status != "queued" or token.cancelled:
                return
            job = self.store.update(job_id, status="running", stage="validate", percent=0.0)
            self._running += 1
        log.info("job %s running", job_id)
        self._notify()
        started = time.monotonic()
        progress = ProgressRecorder(self.store, job, on_write=self._notify)
        try:
            body, warnings = self.work(job, progress, token)
        except Exception as exc:  # noqa: BLE001 - recorded, never lost
            if (isinstance(exc, Cancelled) and self._requeue_interrupted
                    and job_id not in self._user_cancelled):
                # the server is stopping (SIGTERM), not the user cancelling: the job
                # waits for the next start, which resumes it
                final = self.store.update(job_id, **restart_changes(
                    job, "interrupted by a server shutdown; queued again"))
                log.warning("job %s interrupted by the shutdown; queued again", job_id)
            else:
                final = record_failed(self.store, job_id, exc, log)
        else:
            final = record_succeeded(self.store, job, body, warnings)
            self._record_duration(time.monotonic() - started)
        finally:
            with self._lock:
                self._running -= 1
        if final.status == "queued":  # interrupted by the shutdown: no callback, not ended
            self._notify()
            return
        if final.status == "failed" and final.error:
            log.info("job %s failed: %s", job_id, final.error.get("message"))
        else:
            log.info("job %s %s", job_id, final.status)
        self._notify()
        self._finished(final)

    def _finished(self, job: JobRecord) -> None:
        if self.on_finish is not None:
            try:
                self.on_finish(job)
            except Exception:  # noqa: BLE001
                log.exception("job %s: completion hook failed", job.id)

    def stats(self) -> dict[str, Any]:
        """What runs the jobs and how many wait/run: this process's threads
        (``executor: threads``, ``max_jobs`` of them), or in remote mode the
        dispatcher's workers (``executor: celery``, the workers answering, and
        the queued/running counts of the shared store — no local ``max_jobs``)."""
        if self.dispatcher is None:
            return {"executor": "threads", "queued": self._queue.qsize(),
                    "running": self._running, "max_jobs": self.max_jobs,
                    "max_queue": self.max_queue}
        stats: dict[str, Any] = {"executor": getattr(self.dispatcher, "name", "remote"),
                                 "queued": self.store.count("queued"),
                                 "running": self.store.count("running"),
                                 "max_queue": self.max_queue}
        workers = getattr(self.dispatcher, "workers", None)
        if workers is not None:
            names = workers()
            stats["workers"] = len(names)
            stats["worker_names"] = names
        return stats

    def shutdown(self, timeout: float = 5.0, *, requeue: bool = False) -> None:
        """Stop the running jobs (their pipelines remove their work dirs) and the
        threads, waiting up to ``timeout`` s for each. ``requeue``: the process is
        exiting (SIGTERM), so the stopped jobs are stored ``queued`` again for the
        next start to resume, not ``cancelled``."""
        self._requeue_interrupted = requeue
        self._closed = True
        for token in list(self._tokens.values()):
            token.cancel()
        for _ in self._threads:
            self._queue.put_nowait(None)
        for thread in self._threads:
            thread.join(timeout)

