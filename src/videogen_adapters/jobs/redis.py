"""A job store on a Redis-protocol server (Redis, Valkey): jobs shared by processes.

Layout under ``prefix`` (default ``videogen:``): ``job:<id>`` holds the record
as JSON, the sorted set ``jobs`` orders ids by creation time, and
``idem:<key>`` maps an Idempotency-Key to its job id (``SET NX``: one winner).
Creates and updates are optimistic transactions (``WATCH``/``MULTI``), so
concurrent writers never lose each other's changes.

The status index: one sorted set ``status:<status>`` per job status holds the
ids of the jobs in it (scored by creation time). The transaction that writes a
record also moves its id between these sets, so :meth:`RedisJobStore.count`
is one ``ZCARD`` — the remote-mode queue bound asks it on every new job.
Records written before the index existed are added once, by the first
``count`` that finds no ``status-index`` marker key (:meth:`RedisJobStore.reindex`).
Processes of an older version do not maintain the index: run one version on
all API servers and workers, or call ``reindex()`` after a mixed period.
Needs the ``redis`` package.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from videogen_core import Busy, InvalidRequest, JobRecord, NotFound, ServiceUnavailable

from .records import (
    JOB_STATUSES,
    apply_changes,
    check_limit,
    check_new,
    matches,
    record_from_row,
    record_to_row,
)

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
        self._indexed = False  # the status index is known to cover old records

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

    def _status_key(self, status: str) -> str:
        return f"{self.prefix}status:{status}"

    def _index_marker(self) -> str:
        return f"{self.prefix}status-index"

    @contextmanager
    def _errors(self) -> Iterator[None]:
        import redis

        try:
            yield
        except redis.RedisError as exc:
            raise ServiceUnavailable("job store", f"{type(exc).__name__}: {exc}") from exc

    # ---------------------------------------------------------------- port
    def create(self, job: JobRecord, *, limit: int | None = None) -> JobRecord:
        """Store ``job``; a known ``idempotency_key`` returns the job that holds it;
        Busy when ``limit`` jobs already have its status (see :meth:`_insert`)."""
        job = check_new(job)
        with self._errors():
            if job.idempotency_key is not None:
                existing = self._claim_key(job)
                if existing is not None:
                    return existing
            try:
                if limit is not None:
                    self._ensure_index()
                self._insert(job, limit)
            except (InvalidRequest, Busy):
                if job.idempotency_key is not None:
                    self.client.delete(self._idem_key(job.idempotency_key))
                raise
        return job

    def _insert(self, job: JobRecord, limit: int | None = None) -> None:
        """Write the record, its place in ``jobs`` and in its status set in one
        transaction; InvalidRequest when the id is taken. With ``limit`` the
        transaction also watches the status set and counts it: if another
        process adds to (or takes from) the set before ``EXEC``, the transaction
        is retried, so no two writers can both take the last place."""
        key = self._job_key(job.id)
        status_key = self._status_key(job.status)

        def insert(pipe: Any) -> None:
            if pipe.exists(key):
                raise InvalidRequest("id", "a job with this id already exists", job.id)
            if limit is not None:
                check_limit(int(pipe.zcard(status_key)), limit, job.status)
            pipe.multi()
            pipe.set(key, _encode(job))
            pipe.zadd(f"{self.prefix}jobs", {job.id: job.created_at})
            pipe.zadd(status_key, {job.id: job.created_at})

        watched = (key, status_key) if limit is not None else (key,)
        self.client.transaction(insert, *watched)

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
        job = self.update_if(job_id, {}, **changes)
        assert job is not None  # nothing expected: always applied
        return job

    def update_if(self, job_id: str, expected: Mapping[str, Any], **changes: Any
                  ) -> JobRecord | None:
        """Apply ``changes`` atomically while the job's fields equal ``expected``
        (checked inside the WATCH/MULTI transaction); None when they do not."""
        key = self._job_key(job_id)
        result: list[JobRecord | None] = []

        def apply(pipe: Any) -> None:
            raw = pipe.get(key)
            if raw is None:
                raise NotFound(f"job {job_id!r} does not exist", job_id=job_id)
            old = _decode(raw)
            if not matches(old, expected):
                result[:] = [None]
                return
            new = apply_changes(old, changes)
            pipe.multi()
            pipe.set(key, _encode(new))
            if new.status != old.status:
                pipe.zrem(self._status_key(old.status), job_id)
                pipe.zadd(self._status_key(new.status), {job_id: new.created_at})
            result[:] = [new]

        with self._errors():
            self.client.transaction(apply, key)
        return result[0]

    def delete(self, job_id: str) -> None:
        """Forget the job: its record, its places in the indexes, its idempotency key."""
        key = self._job_key(job_id)
        with self._errors():
            raw = self.client.get(key)
            if raw is None:
                return
            job = _decode(raw)
            pipe = self.client.pipeline()
            pipe.delete(key)
            pipe.zrem(f"{self.prefix}jobs", job_id)
            for status in JOB_STATUSES:
                pipe.zrem(self._status_key(status), job_id)
            if job.idempotency_key is not None:
                pipe.delete(self._idem_key(job.idempotency_key))
            pipe.execute()

    def list(self, statuses: Iterable[str] = ()) -> list[JobRecord]:
        """Jobs (only those in ``statuses`` when given), oldest first."""
        wanted = set(statuses)
        with self._errors():
            if wanted:  # from the status sets: a lease check reads only running jobs
                self._ensure_index()
                scored = [(score, raw.decode()) for status in sorted(wanted)
                          for raw, score in self.client.zrange(self._status_key(status), 0, -1,
                                                               withscores=True)]
                ids = [job_id for _, job_id in sorted(scored)]
            else:
                ids = [i.decode() for i in self.client.zrange(f"{self.prefix}jobs", 0, -1)]
            jobs: list[JobRecord] = []
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                raws = self.client.mget([self._job_key(i) for i in chunk])
                jobs.extend(_decode(r) for r in raws if r is not None)
        return [j for j in jobs if not wanted or j.status in wanted]

    def count(self, status: str) -> int:
        """How many jobs are in ``status``: one ``ZCARD`` of its status set (the
        first call on a server without the index marker builds the index first)."""
        with self._errors():
            self._ensure_index()
            return int(self.client.zcard(self._status_key(status)))

    def _ensure_index(self) -> None:
        """Build the status sets once if this store's data predates them."""
        if not self._indexed:
            if not self.client.exists(self._index_marker()):
                self.reindex()
            self._indexed = True

    def reindex(self) -> int:
        """Put every stored job into the status set of its current status (and
        out of the others), then set the marker; the number of jobs indexed.
        Safe while other processes write: each chunk of records is re-read
        and indexed in one transaction that watches them."""
        jobs_key = f"{self.prefix}jobs"
        done = 0
        with self._errors():
            ids = [i.decode() for i in self.client.zrange(jobs_key, 0, -1)]
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                keys = [self._job_key(i) for i in chunk]
                indexed: list[int] = [0]

                def index(pipe: Any, chunk: list[str] = chunk, keys: list[str] = keys,
                          indexed: list[int] = indexed) -> None:
                    raws = pipe.mget(keys)
                    pipe.multi()
                    indexed[0] = 0
                    for job_id, raw in zip(chunk, raws, strict=True):
                        if raw is None:
                            continue
                        job = _decode(raw)
                        for status in JOB_STATUSES:
                            if status != job.status:
                                pipe.zrem(self._status_key(status), job_id)
                        pipe.zadd(self._status_key(job.status), {job_id: job.created_at})
                        indexed[0] += 1

                self.client.transaction(index, *keys)
                done += indexed[0]
            self.client.set(self._index_marker(), "1")
        return done

    def check(self) -> None:
        """Raise ServiceUnavailable when the server does not answer PING."""
        with self._errors():
            self.client.ping()

    def close(self) -> None:
        """Close the client's connections."""
        close: Callable[[], None] | None = getattr(self.client, "close", None)
        if close is not None:
            close()
