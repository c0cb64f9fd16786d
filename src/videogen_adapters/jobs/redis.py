"""A job store on a Redis-protocol server (Redis, Valkey): jobs shared by processes.

Layout under ``prefix`` (default ``videogen:``): ``job:<id>`` holds the record
as JSON, the sorted set ``jobs`` orders ids by creation time, and
``idem:<key>`` maps an Idempotency-Key to its job id (``SET NX``: one winner).
Updates are optimistic transactions (``WATCH``/``MULTI``), so concurrent
writers never lose each other's changes. Needs the ``redis`` package.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from videogen_core import InvalidRequest, JobRecord, NotFound, ServiceUnavailable

from .records import apply_changes, check_new, record_from_row, record_to_row

__all__ = ["RedisJobStore"]


def _encode(job: JobRecord) -> str:
    return json.dumps(record_to_row(job), sort_keys=True)


def _decode(raw: bytes | str) -> JobRecord:
    return record_from_row(json.loads(raw))


class RedisJobStore:
    """Jobs on the Redis server behind ``client`` (a ``redis.Redis``)."""

    name = "redis"

    def __init__(self, client: Any, prefix: str = "videogen:") -> None:
        self.client = client
        self.prefix = prefix

    @classmethod
    def from_url(cls, url: str, prefix: str = "videogen:") -> RedisJobStore:
        """A store on the server at ``url`` (``redis://host:port/db``)."""
        try:
            import redis
        except ImportError as exc:  # pragma: no cover - a packaging problem
            raise ServiceUnavailable("job store", "the redis package is not installed") from exc
        return cls(redis.Redis.from_url(url), prefix)

    # ------------------------------------------------------------ plumbing
    def _job_key(self, job_id: str) -> str:
        return f"{self.prefix}job:{job_id}"

    def _idem_key(self, key: str) -> str:
        return f"{self.prefix}idem:{key}"

    @contextmanager
    def _errors(self) -> Iterator[None]:
        import redis

        try:
            yield
        except redis.RedisError as exc:
            raise ServiceUnavailable("job store", f"{type(exc).__name__}: {exc}") from exc

    # ---------------------------------------------------------------- port
    def create(self, job: JobRecord) -> JobRecord:
        """Store ``job``; a known ``idempotency_key`` returns the job that holds it."""
        job = check_new(job)
        with self._errors():
            if job.idempotency_key is not None:
                existing = self._claim_key(job)
                if existing is not None:
                    return existing
            if not self.client.set(self._job_key(job.id), _encode(job), nx=True):
                if job.idempotency_key is not None:
                    self.client.delete(self._idem_key(job.idempotency_key))
                raise InvalidRequest("id", "a job with this id already exists", job.id)
            self.client.zadd(f"{self.prefix}jobs", {job.id: job.created_at})
        return job

    def _claim_key(self, job: JobRecord) -> JobRecord | None:
        """Claim the idempotency key for ``job`` (None) or return the job holding it."""
        key = self._idem_key(str(job.idempotency_key))
        for _ in range(200):
            if self.client.set(key, job.id, nx=True):
                return None
            holder = self.client.get(key)
            if holder is not None:
                raw = self.client.get(self._job_key(holder.decode()))
                if raw is not None:
                    return _decode(raw)
            time.sleep(0.005)  # the winner has not written its job yet
        raise ServiceUnavailable("job store", "idempotency key stayed claimed without a job")

    def get(self, job_id: str) -> JobRecord:
        """The job; NotFound when unknown."""
        with self._errors():
            raw = self.client.get(self._job_key(job_id))
        if raw is None:
            raise NotFound(f"job {job_id!r} does not exist", job_id=job_id)
        return _decode(raw)

    def find_by_idempotency_key(self, key: str) -> JobRecord | None:
        """The job created with ``key``, or None."""
        with self._errors():
            holder = self.client.get(self._idem_key(key))
            raw = None if holder is None else self.client.get(self._job_key(holder.decode()))
        return None if raw is None else _decode(raw)

    def update(self, job_id: str, **changes: Any) -> JobRecord:
        """Apply ``changes`` atomically (optimistic WATCH/MULTI) and return the new record."""
        key = self._job_key(job_id)
        result: list[JobRecord] = []

        def apply(pipe: Any) -> None:
            raw = pipe.get(key)
            if raw is None:
                raise NotFound(f"job {job_id!r} does not exist", job_id=job_id)
            new = apply_changes(_decode(raw), changes)
            pipe.multi()
            pipe.set(key, _encode(new))
            result[:] = [new]

        with self._errors():
            self.client.transaction(apply, key)
        return result[0]

    def list(self, statuses: Iterable[str] = ()) -> list[JobRecord]:
        """Jobs (only those in ``statuses`` when given), oldest first."""
        wanted = set(statuses)
        with self._errors():
            ids = [i.decode() for i in self.client.zrange(f"{self.prefix}jobs", 0, -1)]
            jobs: list[JobRecord] = []
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                raws = self.client.mget([self._job_key(i) for i in chunk])
                jobs.extend(_decode(r) for r in raws if r is not None)
        return [j for j in jobs if not wanted or j.status in wanted]

    def check(self) -> None:
        """Raise ServiceUnavailable when the server does not answer PING."""
        with self._errors():
            self.client.ping()

    def close(self) -> None:
        """Close the client's connections."""
        close: Callable[[], None] | None = getattr(self.client, "close", None)
        if close is not None:
            close()
