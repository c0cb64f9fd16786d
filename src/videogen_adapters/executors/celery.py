"""Scale-out: render jobs on Celery workers over a Redis-protocol broker.

The flow, with ``VIDEOGEN_EXECUTOR=celery``::

    API server (videogen serve)                      worker (videogen worker) × N
    ─────────────────────────                        ─────────────────────────────
    JobStore.create(job)  ── status queued ──►  shared JobStore (Redis; SQLite on one host)
    CeleryJobDispatcher.submit(job_id)                     ▲
        └─ publishes videogen.render_job(job_id) ──► broker ──► JobTaskRunner.run(job_id)
    GET /jobs/<id>, SSE: read the store                     claims, renders, writes progress,
    DELETE /jobs/<id>: cancel_requested=True ──────────►    polls the flag, stores the result

Reliability, and what each setting buys:

- ``task_acks_late`` + ``task_reject_on_worker_lost``: the message is
  acknowledged only once the task returned. A pool child that dies (OOM,
  SIGKILL) makes the worker requeue it at once; a whole worker that dies
  leaves it unacknowledged and the broker hands it out again after the
  transport's ``visibility_timeout``.
- A lease on the job record: while a job runs, its worker touches the record
  every :data:`HEARTBEAT_SECONDS`; a record older than :data:`LEASE_SECONDS`
  is stale. A :class:`~videogen_jobs.lease.LeaseKeeper` in every API
  server and every ``videogen worker`` re-queues a job stale for 15 s and
  publishes it again (or fails it after repeated losses), so a killed
  worker's job restarts within ~20 s whatever the broker's visibility
  timeout. A message for a job ``running`` with a fresh lease is a duplicate
  and is dropped; a redelivered message for a stale job takes it over at once.
  Claims are compare-and-set on the record (``JobStore.update_if``): two
  messages for one job never render it twice. Hosts' clocks must agree to
  well under the lease.
- Idempotent: a message for a finished job (or one cancelled meanwhile) is
  acknowledged without rendering anything.
- Cancellation crosses processes through ``JobRecord.cancel_requested``:
  a watcher thread next to the running job polls the store (and every
  progress write reads it back) and fires the job's CancelToken.
- Prefetch 1, so a long job never holds a second one hostage.
- Shutdown: SIGTERM to the worker's main process alone is Celery's warm
  shutdown (the running job is finished). SIGTERM reaching the pool child too
  (``kill -TERM -<pgid>``, systemd's default) makes billiard raise SystemExit
  in the running task: the pipeline unwinds (removing its temporary files),
  the job is stored ``queued`` again with a warning, and the lost child's
  message is requeued (``reject_on_worker_lost``), so another worker starts
  it at once instead of waiting for the lease.
- Chunks across workers (README "Chunks across workers"): a chunked job's
  owner publishes ``videogen.help_job(job_id)`` tasks (``VIDEOGEN_FANOUT_HELPERS``;
  by default one per other worker answering a ping). A helper runs the same
  pipeline under a helper :class:`~videogen_adapters.chunkboard.Participation`:
  narration and music come from the cache, the muxer claims and encodes chunks
  on the broker's Redis (:mod:`videogen_adapters.chunkboard`) and ends with
  ``HelperDone`` — no mix, no join, no store, no write to the job record.
  Help tasks are acknowledged on receipt: a lost helper costs at most its
  unfinished chunk, which the owner encodes when the claim lapses.
- Completion callbacks (``generation_params.callback_url``) are sent by the
  worker that finished the job, signed like the API server's (the body is
  the job as ``GET /jobs/<id>`` shows it, under ``VIDEOGEN_PUBLIC_BASE_URL``).

Kombu cannot take Redis transport options in a URL; :func:`split_broker_url`
reads ``visibility_timeout``, ``unacked_restore_interval`` and
``unacked_restore_throttle`` from the query of ``VIDEOGEN_BROKER_URL``
(``redis://host:6379/0?visibility_timeout=7200``). The visibility timeout
must exceed the longest job, or long jobs are redelivered (harmless thanks
to the lease, but it occupies a worker slot while waiting).

Nothing here is built at import time and Celery (the optional ``celery``
extra) is imported only inside functions. ``celery -A
videogen_adapters.executors.celery worker`` works too: the module attribute
``app`` is made on first access from the environment.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from videogen_core import (
    Cancelled,
    CancelToken,
    JobRecord,
    JobStore,
    NotFound,
    ProgressEvent,
    ServiceUnavailable,
    VideogenError,
)
from videogen_jobs.completion import CompletionCallbacks
from videogen_jobs.lease import HEARTBEAT_SECONDS, LEASE_SECONDS, LeaseKeeper
from videogen_jobs.recording import (
    TERMINAL_STATUSES,
    ProgressRecorder,
    record_failed,
    record_succeeded,
    restart_changes,
)
from videogen_jobs.runner import JobWork

from ..broker_url import split_broker_url
from ..config import Settings

if TYPE_CHECKING:  # pragma: no cover - typing only
    from celery import Celery

__all__ = [
    "HEARTBEAT_SECONDS",
    "HELP_TASK_NAME",
    "LEASE_SECONDS",
    "QUEUE",
    "TASK_NAME",
    "CeleryJobDispatcher",
    "JobTaskRunner",
    "JobWork",
    "completion_callbacks",
    "make_celery_app",
    "run_worker",
    "split_broker_url",
]

log = logging.getLogger("videogen.worker")

#: The Celery task that renders one stored job.
TASK_NAME = "videogen.render_job"
#: The Celery task that helps a running job with its chunks (never stores anything).
HELP_TASK_NAME = "videogen.help_job"
#: At most this many helpers per job (``VIDEOGEN_FANOUT_HELPERS`` caps it lower).
MAX_HELPERS = 64
#: The queue render jobs travel on.
QUEUE = "videogen"
#: How often the watcher reads the job for a cancellation request.
POLL_SECONDS = 0.5
#: Seconds a task waits before trying again when the job store does not answer.
STORE_RETRY_SECONDS = 5


# ------------------------------------------------------------------ configuration
def _redact(url: str) -> str:
    """``url`` without its password, for logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def make_celery_app(settings: Settings, *, work: JobWork | None = None,
                    store: JobStore | None = None,
                    on_finish: Callable[[JobRecord], None] | None = None) -> Celery:
    """A Celery app on ``settings.broker_url`` with the ``videogen.render_job`` task.

    JSON only, late acks, requeue on a lost worker, prefetch 1, no result
    backend (results live in the job store). ``work``/``store``/``on_finish``
    replace the configured pipeline/job store/callback sender (tests);
    otherwise each worker process builds them on its first job.
    """
    from celery import Celery

    broker, transport_options = split_broker_url(settings.broker_url)
    app = Celery("videogen", broker=broker, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_default_queue=QUEUE,
        task_track_started=False,
        broker_transport_options=transport_options,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=4.0,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        timezone="UTC",
    )
    runner = _LazyRunner(settings, work, store, on_finish)

    @app.task(name=TASK_NAME, bind=True, acks_late=True, reject_on_worker_lost=True,
              max_retries=None, shared=False)  # this app's alone, not every app's
    def render_job(task: Any, job_id: str, base_url: str | None = None) -> str:
        """Render the stored job ``job_id``; returns its final status. ``base_url``
        is the accepting API server's public base URL (local storage's video URLs
        and callback bodies use it, as that server would). A chunked job asks other
        workers to help with its chunks (:func:`help_job`)."""
        from ..chunkboard import Participation, participating

        worker = str(task.request.hostname or socket.gethostname())
        owner = Participation(job_id, worker, recruit=_recruiter(
            app, settings, job_id, base_url or None, worker))
        try:
            with participating(owner):
                return runner.get().run(job_id, base_url=base_url or None)
        except ServiceUnavailable as exc:
            # the job store is down before the job ended: try again later
            log.warning("job %s: %s; retrying in %d s", job_id, exc.message,
                        STORE_RETRY_SECONDS)
            raise task.retry(countdown=STORE_RETRY_SECONDS) from exc

    @app.task(name=HELP_TASK_NAME, bind=True, acks_late=False, ignore_result=True,
              shared=False)
    def help_job(task: Any, job_id: str, base_url: str | None = None) -> str:
        """Encode chunks of the running job ``job_id`` that nobody has claimed, then
        return: no mix, no join, no store, no write to the job record (its owner
        does all that). Acknowledged on receipt: a helper lost is no loss, the owner
        encodes what is left. Returns what it did (``helped``, ``skipped``...)."""
        worker = str(task.request.hostname or socket.gethostname())
        try:
            return runner.get().help(job_id, worker=worker, base_url=base_url or None)
        except VideogenError as exc:  # a store hiccup: the owner carries on alone
            log.warning("job %s: could not help: %s", job_id, exc.message)
            return "failed"

    return app


def _recruiter(app: Celery, settings: Settings, job_id: str, base_url: str | None,
               worker: str) -> Callable[[int], object]:
    """``recruit(n)`` for the job's owner: publish up to ``n`` ``help_job`` tasks —
    ``VIDEOGEN_FANOUT_HELPERS`` of them, or (-1) one per other worker answering a
    ping — on a thread of its own (the owner starts encoding at once, the ping takes
    half a second). A broker hiccup only means no help."""

    def recruit(wanted: int) -> object:
        thread = threading.Thread(target=publish, args=(wanted,), daemon=True,
                                  name=f"videogen-recruit-{job_id[:8]}")
        thread.start()
        return thread

    def publish(wanted: int) -> int:
        limit = settings.fanout_helpers
        if limit == 0 or wanted <= 0:
            return 0
        if limit < 0:
            try:
                replies = app.control.ping(timeout=0.5)
            except Exception as exc:  # noqa: BLE001 - no help, the owner encodes alone
                log.warning("job %s: worker ping failed: %s", job_id, exc)
                return 0
            limit = len({name for reply in replies for name in reply} - {worker})
        count = min(wanted, limit, MAX_HELPERS)
        kwargs = {"base_url": base_url} if base_url else {}
        sent = 0
        for _ in range(count):
            try:
                app.send_task(HELP_TASK_NAME, args=[job_id], kwargs=kwargs, queue=QUEUE)
            except Exception as exc:  # noqa: BLE001 - the owner encodes what is left
                log.warning("job %s: could not ask for help: %s", job_id, exc)
                break
            sent += 1
        if sent:
            log.info("job %s: asked %d helper(s) for its chunks", job_id, sent)
        return sent

    return recruit


class _LazyRunner:
    """Builds the job store and pipeline once per worker process, on first use."""

    def __init__(self, settings: Settings, work: JobWork | None, store: JobStore | None,
                 on_finish: Callable[[JobRecord], None] | None) -> None:
        self.settings = settings
        self.work = work
        self.store = store
        self.on_finish = on_finish
        self._runner: JobTaskRunner | None = None
        self._lock = threading.Lock()

    def get(self) -> JobTaskRunner:
        with self._lock:
            if self._runner is None:
                from ..jobs import build_job_store

                store = self.store or build_job_store(self.settings)
                self._runner = JobTaskRunner(
                    store, self.work or _pipeline_work(self.settings),
                    on_finish=self.on_finish or completion_callbacks(self.settings))
            return self._runner


def _pipeline_work(settings: Settings) -> JobWork:
    """The real work: ``orchestrator.generate`` on a pipeline built once per process
    — and once more per API-server base URL a job brings (``base_url``: the same
    adapters, only the storage's public URL differs), so a locally stored video
    gets ``<base_url>/media/<key>`` whichever process stored it."""
    pipelines: dict[str | None, Any] = {}
    lock = threading.Lock()

    def pipeline_for(base_url: str | None) -> Any:
        from ..orchestrator import build_pipeline
        from ..storage import build_storage

        with lock:
            if None not in pipelines:
                pipelines[None] = build_pipeline(settings)
            if base_url not in pipelines:
                first = pipelines[None]
                pipelines[base_url] = build_pipeline(
                    settings, storage=build_storage(settings, public_base_url=base_url),
                    renderer=first.renderer, narrator=first.narrator, music=first.music,
                    muxer=first.muxer, executor=first.executor)
            return pipelines[base_url]

    def work(job: JobRecord, progress: Callable[[ProgressEvent], None],
             cancel: CancelToken, *, base_url: str | None = None
             ) -> tuple[Mapping[str, Any], list[str]]:
        from ..chunkboard import HelperDone, current_participation
        from ..converter import result_to_response
        from ..orchestrator import generate

        pipeline = pipeline_for(base_url)
        part = current_participation()
        if part is not None and part.helper and getattr(pipeline.muxer, "board", None) is None:
            raise HelperDone(0)  # this muxer cannot share chunks: a helper has nothing to do
        result = generate(job.folder_id, job.request, pipeline=pipeline,
                          progress=progress, cancel=cancel)
        return result_to_response(result), list(result.warnings)

    return work


def completion_callbacks(settings: Settings, sender: Any = None) -> CompletionCallbacks:
    """The hook POSTing a finished job to its ``callback_url`` (when it has one),
    exactly as the API server does (:class:`~videogen_jobs.completion.CompletionCallbacks`),
    with a signed :class:`~videogen_jobs.callbacks.CallbackSender` and its address
    guard (``callback_allow_private``): a URL that now resolves into a private
    network is not sent to. ``sender`` replaces it (tests). Built lazily: a worker
    without callback jobs never loads httpx nor creates an HTTP client."""
    base = (settings.public_base_url or f"http://{settings.host}:{settings.port}").rstrip("/")
    senders: list[Any] = [] if sender is None else [sender]
    lock = threading.Lock()

    def get_sender() -> Any:
        with lock:
            if not senders:
                from videogen_jobs.callbacks import CallbackSender

                senders.append(CallbackSender(
                    settings.callback_secret, allow_private=settings.callback_allow_private))
            return senders[0]

    return CompletionCallbacks(get_sender, base)


# ------------------------------------------------------------------ worker side
class JobTaskRunner:
    """Runs one stored job in a worker: claim, render, report, finish — once.

    Broker-agnostic (it only sees the job store), so unit tests drive it
    directly. ``clock`` must be wall time (``time.time``): it is compared with
    ``updated_at`` stamps written by other hosts.
    """

    def __init__(self, store: JobStore, work: JobWork, *,
                 heartbeat: float = HEARTBEAT_SECONDS, lease: float = LEASE_SECONDS,
                 poll: float = POLL_SECONDS, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep,
                 on_finish: Callable[[JobRecord], None] | None = None) -> None:
        self.store = store
        self.work = work
        self.heartbeat = heartbeat
        self.lease = lease
        self.poll = poll
        self.clock = clock
        self.sleep = sleep
        #: Called once with the final record of every job this runner ended.
        self.on_finish = on_finish

    def run(self, job_id: str, *, base_url: str | None = None) -> str:
        """Render ``job_id`` unless it is finished, gone or held by a live worker;
        returns the status it ends in (``missing`` for an unknown job).
        ``base_url`` (the accepting API server's) goes to the work and the
        completion hook as a keyword, when given."""
        job: JobRecord | None = None
        for _ in range(20):  # claims are compare-and-set: look again when beaten to it
            try:
                job = self.store.get(job_id)
            except NotFound:
                log.warning("job %s: not in the job store; message dropped", job_id)
                return "missing"
            if job.status in TERMINAL_STATUSES:
                log.info("job %s already %s; not rendered again", job_id, job.status)
                return job.status
            notes: list[str] = []
            if job.status == "running" and not job.cancel_requested:
                age = self.clock() - job.updated_at
                if age <= self.lease:
                    # a duplicate (a redelivery, or a re-queue racing the old message):
                    # the live worker keeps it; if that worker dies, a lease keeper
                    # re-queues and publishes the job again
                    log.info("job %s: running on a live worker (touched %.1f s ago); "
                             "duplicate message dropped", job_id, age)
                    return "running"
                notes.append("restarted on another worker: the previous one stopped "
                             "answering")
            base = job.base_url or base_url or None  # the accepting server's, stored
            extra = {"base_url": base} if base else {}
            expected = {"status": job.status, "updated_at": job.updated_at}
            if job.cancel_requested:
                ended = self.store.update_if(job_id, expected, status="cancelled",
                                             eta_seconds=None, error=Cancelled().to_dict())
                if ended is None:
                    continue
                log.info("job %s cancelled", job_id)
                return self._ended(ended, extra)
            claimed = self.store.update_if(
                job_id, expected, status="running", stage="validate", percent=0.0,
                scenes_done=0, frames_done=0, frames_total=0, eta_seconds=None,
                warnings=[*job.warnings, *notes])
            if claimed is None:
                self.sleep(0.05)
                continue
            if notes:
                log.warning("job %s: taking over a job whose worker stopped answering", job_id)
            log.info("job %s running: folder %s", job_id, claimed.folder_id)
            return self._ended(self._render(claimed, extra), extra)
        log.warning("job %s: kept changing while being claimed; message dropped", job_id)
        return job.status if job is not None else "missing"

    def help(self, job_id: str, *, worker: str, base_url: str | None = None) -> str:
        """Help the running job ``job_id`` with its chunks (see :func:`help_job`):
        the same work as its owner's, run as a helper (the muxer encodes unclaimed
        chunks and ends with :class:`~videogen_adapters.chunkboard.HelperDone`).
        Never writes the job record. Returns ``helped``, ``skipped`` (the job is not
        running), ``stopped`` (it ended or was cancelled meanwhile) or ``failed``."""
        from ..chunkboard import HelperDone, Participation, participating

        job = self.store.get(job_id)
        if job.status != "running" or job.cancel_requested:
            log.info("job %s is %s; no help needed", job_id, job.status)
            return "skipped"
        base = job.base_url or base_url or None
        extra = {"base_url": base} if base else {}
        token = CancelToken()
        stop = threading.Event()
        watcher = threading.Thread(target=self._watch_helped, args=(job_id, token, stop),
                                   name=f"videogen-help-{job_id[:8]}", daemon=True)
        watcher.start()
        try:
            with participating(Participation(job_id, worker, helper=True)):
                self.work(job, lambda event: None, token, **extra)
        except HelperDone as done:
            log.info("job %s: helped with %d chunk(s)", job_id, done.encoded)
            return "helped"
        except Cancelled:
            log.info("job %s ended or was cancelled; helper stopped", job_id)
            return "stopped"
        except Exception as exc:  # noqa: BLE001 - the owner encodes what is left
            log.warning("job %s: helping failed: %s", job_id, exc)
            return "failed"
        finally:
            stop.set()
            watcher.join(5.0)
        log.error("job %s: a helper's run did not end as a helper (nothing stored?)", job_id)
        return "failed"

    def _watch_helped(self, job_id: str, token: CancelToken, stop: threading.Event) -> None:
        """Fire ``token`` once the helped job ended (or was asked to stop). A job queued
        again (its owner died) is still helped: its next owner takes these chunks."""
        while not stop.wait(max(self.poll, 1.0)):
            try:
                job = self.store.get(job_id)
            except VideogenError:
                continue
            if job.status in TERMINAL_STATUSES or job.cancel_requested:
                token.cancel()
                return

    def _ended(self, job: JobRecord, extra: Mapping[str, Any]) -> str:
        if self.on_finish is not None:
            try:
                self.on_finish(job, **extra)
            except Exception:  # noqa: BLE001 - a failing hook must not fail the job
                log.exception("job %s: completion hook failed", job.id)
        return job.status

    def _render(self, job: JobRecord, extra: Mapping[str, Any]) -> JobRecord:
        token = CancelToken()
        if job.cancel_requested:
            token.cancel()
        reporter = ProgressRecorder(self.store, job, token=token, clock=self.clock)
        stop = threading.Event()
        watcher = threading.Thread(target=self._watch, args=(job.id, token, reporter, stop),
                                   name=f"videogen-watch-{job.id[:8]}", daemon=True)
        watcher.start()
        try:
            body, warnings = self.work(job, reporter, token, **extra)
        except Exception as exc:
            final = self._failed(job, exc)
        except BaseException:
            # SystemExit/KeyboardInterrupt: this process is exiting mid-job (billiard
            # raises SystemExit on SIGTERM). The job is not at fault and its message
            # comes back (late ack): queue it again so the next worker need not
            # wait out the lease.
            self._requeue(job)
            raise
        else:
            final = record_succeeded(self.store, job, body, warnings)
            log.info("job %s succeeded", job.id)
        finally:
            stop.set()
            watcher.join(5.0)
        return final

    def _requeue(self, job: JobRecord) -> None:
        """Best effort: the process is exiting; the lease covers a failed write."""
        log.warning("job %s interrupted: the worker is exiting; queued again", job.id)
        try:
            self.store.update(job.id, **restart_changes(
                job, "interrupted by a worker shutdown; queued again"))
        except Exception:  # noqa: BLE001 - nothing more can be done while exiting
            log.warning("job %s: could not store the interruption", job.id)

    def _failed(self, job: JobRecord, exc: Exception) -> JobRecord:
        """The final record of a job whose work raised ``exc``."""
        if isinstance(exc, Cancelled):
            log.info("job %s cancelled", job.id)
        elif isinstance(exc, VideogenError):
            log.info("job %s failed: %s", job.id, exc.message)
        return record_failed(self.store, job.id, exc, log)

    def _watch(self, job_id: str, token: CancelToken, reporter: ProgressRecorder,
               stop: threading.Event) -> None:
        """Fire ``token`` when the job is asked to stop; keep the lease fresh."""
        while not stop.wait(self.poll):
            try:
                if self.clock() - reporter.last_write >= self.heartbeat:
                    job = reporter.touch()
                else:
                    job = self.store.get(job_id)
            except VideogenError as exc:  # a store hiccup: try again next round
                log.warning("job %s: job store check failed: %s", job_id, exc)
                continue
            if job.cancel_requested or job.status == "cancelled":
                if not token.cancelled:
                    log.info("job %s: cancellation requested; stopping", job_id)
                token.cancel()


# ------------------------------------------------------------------ API side
class CeleryJobDispatcher:
    """Hands stored jobs to the workers: publishes ``videogen.render_job(job_id)``
    with the job id as task id, revokes queued ones on cancel."""

    name = "celery"

    def __init__(self, app: Celery, base_url: str = "") -> None:
        self.app = app
        #: This API server's public base URL; it travels with every job (see render_job).
        self.base_url = base_url.rstrip("/")

    def submit(self, job_id: str) -> None:
        """Publish the job; ServiceUnavailable("broker", …) when the broker is down."""
        kwargs = {"base_url": self.base_url} if self.base_url else {}
        try:
            self.app.send_task(TASK_NAME, args=[job_id], kwargs=kwargs, task_id=job_id,
                               queue=QUEUE,
                               retry=True, retry_policy={"max_retries": 2,
                                                         "interval_start": 0.2,
                                                         "interval_step": 0.5,
                                                         "interval_max": 1.0})
        except Exception as exc:  # kombu/redis raise a wide family; translated here
            raise ServiceUnavailable("broker", f"{type(exc).__name__}: {exc}",
                                     broker=_redact(str(self.app.conf.broker_url))) from exc

    def revoke(self, job_id: str) -> None:
        """Tell live workers to drop the job's message (best effort: the job
        store's ``cancelled`` status is what workers trust)."""
        try:
            self.app.control.revoke(job_id)
        except Exception as exc:  # noqa: BLE001 - the store already says cancelled
            log.warning("job %s: could not revoke the queued task: %s", job_id, exc)

    def close(self) -> None:
        """Release the app's broker connections."""
        self.app.close()

    def workers(self, timeout: float = 0.3) -> list[str]:
        """Names of the workers answering a ping within ``timeout`` s (empty when none
        or the broker does not answer): what actually runs the jobs."""
        try:
            replies = self.app.control.ping(timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - reported as "no worker answers"
            log.warning("worker ping failed: %s", exc)
            return []
        return sorted(name for reply in replies for name in reply)

    def check(self) -> None:
        """Raise ServiceUnavailable when the broker does not answer."""
        try:
            with self.app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
        except Exception as exc:
            raise ServiceUnavailable("broker", f"{type(exc).__name__}: {exc}") from exc


# ------------------------------------------------------------------ worker process
def run_worker(settings: Settings, concurrency: int = 1, *,
               hostname: str | None = None, queues: str | None = None) -> None:
    """Consume render jobs until SIGTERM: warm shutdown, nothing new is taken and
    the running job finishes — unless the signal reached the pool child too, then
    the job is queued again (see the module docstring)."""
    if settings.job_store == "memory":
        from videogen_core import InvalidRequest

        raise InvalidRequest("VIDEOGEN_JOB_STORE", "a worker needs a shared job store "
                             "(redis, or sqlite on one host)", "memory")
    from celery.signals import worker_process_shutdown, worker_ready

    from ..workdirs import sweep, work_root

    # what killed workers left in the work root goes now; a pool child removes its
    # own process dir when it shuts down (billiard children skip atexit hooks)
    sweep(work_root(settings))
    worker_process_shutdown.connect(_release_work_dir, weak=False)
    app = make_celery_app(settings)
    # this worker also enforces leases: a job whose worker died is queued again. The
    # keeper starts once the pool is up (no thread of ours is running at the fork)
    from ..jobs import build_job_store

    keeper = LeaseKeeper(build_job_store(settings), CeleryJobDispatcher(app).submit,
                         on_end=completion_callbacks(settings),
                         name=f"worker {hostname or os.getpid()}")

    def start_keeper(**_: Any) -> None:
        keeper.start()

    worker_ready.connect(start_keeper, weak=False)
    name = hostname or f"videogen-{os.getpid()}@{socket.gethostname()}"
    queues = queues or QUEUE
    log.info("videogen worker %s: broker %s, job store %s, queues %s, concurrency %d",
             name, _redact(split_broker_url(settings.broker_url)[0]), settings.job_store,
             queues, concurrency)
    app.worker_main([
        "worker", f"--concurrency={max(1, concurrency)}", f"--hostname={name}",
        f"--queues={queues}", f"--loglevel={settings.log_level.upper()}",
        "--without-gossip", "--without-mingle",
    ])
    keeper.stop()
    log.info("videogen worker %s stopped", name)


def _release_work_dir(**_: Any) -> None:
    from ..workdirs import release_process_work_dir

    release_process_work_dir()


def __getattr__(name: str) -> Any:
    """``app`` for ``celery -A videogen_adapters.executors.celery``: made from the
    environment on first access, never at import time."""
    if name == "app":
        app = make_celery_app(Settings.from_env())
        globals()["app"] = app
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
