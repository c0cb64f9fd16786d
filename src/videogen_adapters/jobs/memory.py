"""A job store in a dict: the fake, fitting the ``JobStore`` port."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

from videogen_core import InvalidRequest, JobRecord, NotFound

from .records import apply_changes, check_limit, check_new, matches

__all__ = ["InMemoryJobStore"]


class InMemoryJobStore:
    """Jobs kept in process memory (lost on exit); thread-safe."""

    name = "memory"

    def __init__(self) -> None:
        self._jobs: dict[str, JobRecord] = {}
        self._keys: dict[str, str] = {}
        self._lock = threading.Lock()

    def create(self, job: JobRecord, *, limit: int | None = None) -> JobRecord:
        """Store ``job``; a known ``idempotency_key`` returns the job that holds it;
        Busy when ``limit`` jobs already have its status (see the port)."""
        job = check_new(job)
        with self._lock:
            if job.idempotency_key is not None and job.idempotency_key in self._keys:
                return self._jobs[self._keys[job.idempotency_key]]
            if job.id in self._jobs:
                raise InvalidRequest("id", "a job with this id already exists", job.id)
            if limit is not None:
                check_limit(sum(1 for j in self._jobs.values() if j.status == job.status),
                            limit, job.status)
            self._jobs[job.id] = job
            if job.idempotency_key is not None:
                self._keys[job.idempotency_key] = job.id
            return job

    def get(self, job_id: str) -> JobRecord:
        """The job; NotFound when unknown."""
        with self._lock:
            try:
                return self._jobs[job_id]
            except KeyError:
                raise NotFound(f"job {job_id!r} does not exist", job_id=job_id) from None

    def find_by_idempotency_key(self, key: str) -> JobRecord | None:
        """The job created with ``key``, or None."""
        with self._lock:
            job_id = self._keys.get(key)
            return None if job_id is None else self._jobs[job_id]

    def update(self, job_id: str, **changes: Any) -> JobRecord:
        """Apply ``changes`` and return the new record."""
        with self._lock:
            if job_id not in self._jobs:
                raise NotFound(f"job {job_id!r} does not exist", job_id=job_id)
            job = apply_changes(self._jobs[job_id], changes)
            self._jobs[job_id] = job
            return job

    def update_if(self, job_id: str, expected: Mapping[str, Any], **changes: Any
                  ) -> JobRecord | None:
        """Apply ``changes`` only while the job's fields equal ``expected``; else None."""
        with self._lock:
            if job_id not in self._jobs:
                raise NotFound(f"job {job_id!r} does not exist", job_id=job_id)
            if not matches(self._jobs[job_id], expected):
                return None
            job = apply_changes(self._jobs[job_id], changes)
            self._jobs[job_id] = job
            return job

    def delete(self, job_id: str) -> None:
        """Forget the job (and its idempotency key)."""
        with self._lock:
            job = self._jobs.pop(job_id, None)
            if job is not None and job.idempotency_key is not None:
                self._keys.pop(job.idempotency_key, None)

    def list(self, statuses: Iterable[str] = ()) -> list[JobRecord]:
        """Jobs (only those in ``statuses`` when given), oldest first."""
        wanted = set(statuses)
        with self._lock:
            jobs = [j for j in self._jobs.values() if not wanted or j.status in wanted]
        return sorted(jobs, key=lambda j: j.created_at)

    def count(self, status: str) -> int:
        """How many jobs are in ``status``."""
        with self._lock:
            return sum(1 for j in self._jobs.values() if j.status == status)

    def check(self) -> None:
        """Always ready."""
