"""Leases on running jobs, enforced: a job whose worker died is re-queued.

A process rendering a job touches its record at least every
:data:`HEARTBEAT_SECONDS` (progress writes and a watcher thread do it). A
``running`` job untouched for :data:`LEASE_SECONDS` is *stale*: ``GET
/jobs/<id>`` says so (``"stale": true``). :class:`LeaseKeeper` — run by every
API server in Celery mode and by every ``videogen worker`` — checks the
running jobs every :data:`CHECK_SECONDS` and takes a job stale for
:data:`REQUEUE_AFTER_SECONDS`:

- re-queued (status ``queued``, a warning saying why) and published again, so
  a live worker starts it within seconds — whatever the broker's visibility
  timeout (the dead worker's unacknowledged message comes back only then, and
  is dropped as a duplicate);
- failed with the reason when it was already re-queued :data:`MAX_REQUEUES`
  times (a job that kills its workers must not loop forever);
- cancelled when a cancel was requested (nobody is left to stop it).

Whoever sees a stale job first takes it: the change is a compare-and-set on
the record's ``updated_at`` (:meth:`JobStore.update_if`), so a worker that
was only slow (and touched the record meanwhile) keeps its job, and two
keepers never both re-queue one job. Clocks of all hosts must agree to well
under the lease (NTP).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from videogen_core import Cancelled, JobRecord, JobStore, VideogenError

from .recording import restart_changes

__all__ = [
    "CHECK_SECONDS",
    "HEARTBEAT_SECONDS",
    "LEASE_SECONDS",
    "MAX_REQUEUES",
    "REQUEUED_NOTE",
    "REQUEUE_AFTER_SECONDS",
    "LeaseKeeper",
    "is_stale",
]

log = logging.getLogger("videogen.lease")

#: A running job's record is touched at least this often.
HEARTBEAT_SECONDS = 2.0
#: A running job untouched for longer is stale (its worker presumed dead).
LEASE_SECONDS = 10.0
#: A stale job is re-queued once untouched this long (stale is visible before).
REQUEUE_AFTER_SECONDS = 15.0
#: Seconds between two checks of a keeper.
CHECK_SECONDS = 2.5
#: Re-queues of one job before it is failed instead.
MAX_REQUEUES = 3
#: The start of the warning a re-queued job gets.
REQUEUED_NOTE = "re-queued: its worker stopped renewing its lease"


def is_stale(job: JobRecord, now: float | None = None, lease: float = LEASE_SECONDS) -> bool:
    """A running job whose record is older than the lease."""
    now = time.time() if now is None else now
    return job.status == "running" and now - job.updated_at > lease


class LeaseKeeper:
    """Re-queues (or fails) running jobs whose lease expired; see the module docstring.

    ``republish(job_id)`` hands a re-queued job to the workers again (the
    dispatcher's ``submit``); ``on_end(job)`` gets jobs it ended (failed or
    cancelled: completion callbacks). ``clock`` must be wall time.
    """

    def __init__(self, store: JobStore, republish: Callable[[str], None] | None = None, *,
                 after: float = REQUEUE_AFTER_SECONDS, interval: float = CHECK_SECONDS,
                 max_requeues: int = MAX_REQUEUES, clock: Callable[[], float] = time.time,
                 on_end: Callable[[JobRecord], None] | None = None, name: str = "") -> None:
        self.store = store
        self.republish = republish
        self.after = after
        self.interval = interval
        self.max_requeues = max_requeues
        self.clock = clock
        self.on_end = on_end
        self.name = name or "lease keeper"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> list[JobRecord]:
        """One pass: the jobs this keeper re-queued, failed or cancelled."""
        handled: list[JobRecord] = []
        now = self.clock()
        for job in self.store.list(("running",)):
            age = now - job.updated_at
            if job.status != "running" or age <= self.after:
                continue
            taken = self._take(job, age)
            if taken is not None:
                handled.append(taken)
        return handled

    def _take(self, job: JobRecord, age: float) -> JobRecord | None:
        requeues = sum(1 for w in job.warnings if w.startswith(REQUEUED_NOTE))
        expected = {"status": "running", "updated_at": job.updated_at}
        if job.cancel_requested:
            new = self.store.update_if(job.id, expected, status="cancelled", eta_seconds=None,
                                       error=Cancelled().to_dict())
        elif requeues >= self.max_requeues:
            reason = (f"its worker stopped renewing its lease {requeues + 1} times "
                      f"(last sign of life {age:.0f} s ago); not retried again")
            new = self.store.update_if(job.id, expected, status="failed", eta_seconds=None,
                                       error={"code": "worker_lost", "message": reason,
                                              "details": {"requeues": requeues,
                                                          "stage": job.stage}})
        else:
            note = (f"{REQUEUED_NOTE} (no sign of life for {age:.0f} s during "
                    f"{job.stage or 'start'}); it starts again")
            new = self.store.update_if(job.id, expected, **restart_changes(job, note))
        if new is None:
            return None  # touched meanwhile: its worker lives, or another keeper took it
        if new.status == "queued":
            log.warning("job %s: %s for %.0f s; re-queued (%s)", job.id,
                        "no lease renewal", age, self.name)
            if self.republish is not None:
                try:
                    self.republish(job.id)
                except VideogenError as exc:  # the broker's redelivery still comes later
                    log.error("job %s: re-queued but not published: %s", job.id, exc.message)
        else:
            log.warning("job %s: lease expired %.0f s ago; %s (%s)", job.id, age, new.status,
                        self.name)
            if self.on_end is not None:
                try:
                    self.on_end(new)
                except Exception:  # noqa: BLE001 - a failing hook must not stop the keeper
                    log.exception("job %s: completion hook failed", job.id)
        return new

    # ------------------------------------------------------------ thread
    def start(self) -> LeaseKeeper:
        """Check every ``interval`` seconds on a daemon thread until :meth:`stop`."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="videogen-lease",
                                            daemon=True)
            self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except VideogenError as exc:  # the store is down: next round
                log.warning("lease check failed: %s", exc.message)
            except Exception:  # noqa: BLE001 - the keeper must keep running
                log.exception("lease check failed")

    def stop(self) -> None:
        """Stop the thread (idempotent)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None
