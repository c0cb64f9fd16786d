"""Chunks of one job encoded by many workers: a board of claims, and the crew that uses it.

In chunked mode (README "Chunked rendering") every chunk of the video has a
content key (:func:`~videogen_adapters.ffmpeg.muxer.chunk_key`) and encoded
chunks live in the cache. A :class:`ChunkBoard` says who is encoding which key
right now, so that the job's owner and its helpers (other workers planning the
same job, see :mod:`videogen_adapters.executors.celery`) share the work::

    owner (job's worker)                         helper × K (other workers)
    ────────────────────                         ──────────────────────────
    plan → chunk keys → recruit(K) ─ help_job ─► plan (narration, music: cache hits)
    crew: for each chunk not in the cache:       crew: the same, but returns when no
      claim(key) ─► encode, renew the claim        chunk is left unclaimed — no mix,
      on a heartbeat ─► cache.put ─► finish        no join, no store (HelperDone)
      claimed by another: wait for the cache;
      its claim expired (holder killed): claim it
    mix ∥ ... ─► join ─► store

Artifacts travel through the cache (a shared directory, or the Storage-backed
shared tier), never through the broker: the board holds only claims (``SET key
owner NX PX``) and chunk records (who encoded which chunk of which job, when:
:class:`ChunkRecord`).

Adapters: :class:`InMemoryChunkBoard` (threads of one process, the default) and
:class:`~videogen_adapters.chunkboard.redis.RedisChunkBoard` (Celery mode, on the
broker's Redis/Valkey). Both pass ``tests/contract/test_chunkboard.py``.

:class:`Participation` (a context variable set by the Celery tasks) tells the
muxer whose job it is working on, on which worker, and whether it owns the job
(then it may ``recruit`` helpers) or only helps (then it ends with
:class:`HelperDone` once nothing is left to claim).
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import os
import socket
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

import attrs

from videogen_core import CancelToken, VideogenError

__all__ = [
    "DEFAULT_LEASE",
    "ChunkBoard",
    "ChunkCrew",
    "ChunkRecord",
    "HelperDone",
    "InMemoryChunkBoard",
    "Participation",
    "current_participation",
    "encode_counts",
    "local_worker_name",
    "participating",
]

#: Seconds a claim lives without renewal; the encoder renews it every third of that.
DEFAULT_LEASE = 20.0
#: Seconds between looks at the cache while another worker encodes a chunk.
POLL_SECONDS = 0.2


@attrs.frozen
class ChunkRecord:
    """One encode of one chunk: ``finished`` is None while it runs — or forever, when
    its worker was killed mid-encode (another worker then encodes the chunk)."""

    key: str
    worker: str
    job: str
    attempt: str
    started: float
    finished: float | None = None


class ChunkBoard(Protocol):
    """Who is encoding which chunk right now (claims with a lease), and the records
    of every encode. Claims must be atomic across every process that shares it."""

    def claim(self, key: str, owner: str, lease: float) -> bool:
        """Take ``key`` for ``owner`` for ``lease`` seconds unless someone holds it."""
        ...

    def renew(self, key: str, owner: str, lease: float) -> bool:
        """Extend ``owner``'s claim; False when it is not ``owner``'s any more."""
        ...

    def release(self, key: str, owner: str) -> None:
        """Drop ``owner``'s claim on ``key`` (nothing when someone else holds it)."""
        ...

    def holder(self, key: str) -> str | None:
        """Who holds ``key`` now (None: nobody)."""
        ...

    def started(self, record: ChunkRecord) -> None:
        """Record that an encode began."""
        ...

    def finished(self, record: ChunkRecord) -> None:
        """Record that the encode ``record.attempt`` ended with the chunk in the cache."""
        ...

    def records(self, job: str) -> list[ChunkRecord]:
        """Every encode recorded for ``job``, in start order."""
        ...


class HelperDone(VideogenError):  # noqa: N818 - an outcome, not a failure
    """A helper's run ends here: its chunks are in the cache; the owner mixes, joins
    and stores. Never a job's result (the help task swallows it)."""

    code = "helper_done"

    def __init__(self, encoded: int) -> None:
        super().__init__(f"helped with {encoded} chunk(s)", encoded=encoded)
        self.encoded = encoded


@attrs.frozen
class Participation:
    """Whose job this thread works on. ``helper``: plan and encode only.
    ``recruit(n)`` (owner only) asks up to ``n`` helpers (without waiting for them)."""

    job: str
    worker: str
    helper: bool = False
    recruit: Callable[[int], object] | None = None


_PARTICIPATION: contextvars.ContextVar[Participation | None] = contextvars.ContextVar(
    "videogen_participation", default=None)


def current_participation() -> Participation | None:
    """The job this thread works on in a Celery task (None elsewhere)."""
    return _PARTICIPATION.get()


@contextlib.contextmanager
def participating(participation: Participation) -> Iterator[Participation]:
    """Run the block as ``participation`` (the Celery tasks wrap a job's run in this)."""
    token = _PARTICIPATION.set(participation)
    try:
        yield participation
    finally:
        _PARTICIPATION.reset(token)


def local_worker_name() -> str:
    """This process's name in chunk records when no Celery worker names it."""
    return f"{socket.gethostname()}:{os.getpid()}"


# ------------------------------------------------------------------ in memory
class InMemoryChunkBoard:
    """A board for the threads of one process (the default). Keeps the records of
    the last :attr:`MAX_JOBS` jobs, at most :attr:`MAX_RECORDS` each."""

    MAX_JOBS = 256
    MAX_RECORDS = 10_000

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._claims: dict[str, tuple[str, float]] = {}
        self._records: OrderedDict[str, deque[ChunkRecord]] = OrderedDict()
        self._lock = threading.Lock()

    def _live(self, key: str) -> tuple[str, float] | None:
        held = self._claims.get(key)
        if held is not None and held[1] <= self.clock():
            del self._claims[key]
            return None
        return held

    def claim(self, key: str, owner: str, lease: float) -> bool:
        """See :class:`ChunkBoard`."""
        with self._lock:
            if self._live(key) is not None:
                return False
            self._claims[key] = (owner, self.clock() + lease)
            return True

    def renew(self, key: str, owner: str, lease: float) -> bool:
        """See :class:`ChunkBoard`."""
        with self._lock:
            held = self._live(key)
            if held is None or held[0] != owner:
                return False
            self._claims[key] = (owner, self.clock() + lease)
            return True

    def release(self, key: str, owner: str) -> None:
        """See :class:`ChunkBoard`."""
        with self._lock:
            held = self._live(key)
            if held is not None and held[0] == owner:
                del self._claims[key]

    def holder(self, key: str) -> str | None:
        """See :class:`ChunkBoard`."""
        with self._lock:
            held = self._live(key)
            return None if held is None else held[0]

    def started(self, record: ChunkRecord) -> None:
        """See :class:`ChunkBoard`."""
        with self._lock:
            records = self._records.get(record.job)
            if records is None:
                records = self._records[record.job] = deque(maxlen=self.MAX_RECORDS)
                while len(self._records) > self.MAX_JOBS:
                    self._records.popitem(last=False)
            records.append(record)

    def finished(self, record: ChunkRecord) -> None:
        """See :class:`ChunkBoard`."""
        with self._lock:
            records = self._records.get(record.job, deque())
            for i, r in enumerate(records):
                if r.attempt == record.attempt:
                    records[i] = record
                    return
            records.append(record)

    def records(self, job: str) -> list[ChunkRecord]:
        """See :class:`ChunkBoard`."""
        with self._lock:
            return list(self._records.get(job, ()))


# ------------------------------------------------------------------ the crew
class ChunkCrew:
    """Encodes the chunks ``keys[k]`` with others sharing ``board``; run
    :meth:`work` on as many threads as should encode side by side.

    A thread takes the first chunk not yet done here: in the cache → ``take(k)``
    (link it, count a hit); claimed on the board → ``encode(k)`` (which puts it in
    the cache) while a heartbeat renews the claim, then a finished record; held by
    another → the next chunk. When only chunks held by others are left, an owner
    polls until each is in the cache or its claim lapsed (holder gone: it claims it
    itself); a helper (``helper=True``) returns instead. ``encoded`` lists the
    chunks this crew encoded.
    """

    def __init__(self, board: ChunkBoard, keys: Sequence[str], *,
                 take: Callable[[int], bool], encode: Callable[[int], object],
                 stop: CancelToken, job: str, worker: str, helper: bool = False,
                 lease: float = DEFAULT_LEASE, poll: float = POLL_SECONDS) -> None:
        self.board = board
        self.keys = list(keys)
        self.take = take
        self.encode = encode
        self.stop = stop
        self.job = job
        self.worker = worker
        self.helper = helper
        self.lease = lease
        self.poll = poll
        self.encoded: list[int] = []
        self._busy: set[int] = set()
        self._done: set[int] = set()
        self._lock = threading.Lock()
        self._owner = f"{worker}/{uuid.uuid4().hex[:12]}"

    def work(self) -> None:
        """Take, encode or wait for chunks until every one is done (a helper: until
        none is left unclaimed)."""
        while True:
            self.stop.raise_if_cancelled()
            with self._lock:
                left = [k for k in range(len(self.keys))
                        if k not in self._done and k not in self._busy]
                if not left:
                    return  # the rest is being encoded by this crew's other threads
            moved = False
            for k in left:
                with self._lock:
                    if k in self._done or k in self._busy:
                        continue
                    self._busy.add(k)
                done = False
                try:
                    done = self._attempt(k)
                finally:
                    with self._lock:
                        self._busy.discard(k)
                        if done:
                            self._done.add(k)
                if done:
                    moved = True
                    break  # back to the first chunk left: chunks go in order
            if not moved:
                if self.helper and left:
                    return  # the rest is claimed by others: the owner waits for them
                self.stop.wait(self.poll)

    def _attempt(self, k: int) -> bool:
        """Chunk ``k`` done here now (taken from the cache or encoded)? False: another
        worker holds it."""
        key = self.keys[k]
        owner = f"{self._owner}/{k}"
        # the claim first: while another worker holds the chunk, waiting costs one
        # board round trip a poll, never a cache lookup (on a shared cache, a
        # storage request); a holder releases its claim once the chunk is cached
        if not self.board.claim(key, owner, self.lease):
            return False
        try:
            if self.take(k):  # finished by another before we claimed it
                return True
            record = ChunkRecord(key, self.worker, self.job, owner, time.time())
            self.board.started(record)
            with self._heartbeat(key, owner):
                self.encode(k)
            self.board.finished(attrs.evolve(record, finished=time.time()))
            with self._lock:
                self.encoded.append(k)
            return True
        finally:
            self.board.release(key, owner)

    @contextlib.contextmanager
    def _heartbeat(self, key: str, owner: str) -> Iterator[None]:
        """Renew the claim every third of the lease while the block runs."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.lease / 3):
                with contextlib.suppress(Exception):  # a hiccup: the next beat tries again
                    self.board.renew(key, owner, self.lease)

        thread = threading.Thread(target=beat, name=f"videogen-claim-{key[:8]}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(5.0)


def encode_counts(records: Sequence[ChunkRecord]) -> dict[str, int]:
    """Finished encodes per chunk key (tests and benchmarks: ``1`` each, never 2)."""
    counts: dict[str, int] = {}
    for key, group in itertools.groupby(sorted(records, key=lambda r: r.key),
                                        key=lambda r: r.key):
        counts[key] = sum(r.finished is not None for r in group)
    return counts
