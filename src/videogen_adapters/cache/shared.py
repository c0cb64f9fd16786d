"""The cache shared by workers on several hosts: a local DiskCache in front of the
configured Storage (S3, GCS...).

:class:`SharedCache` *is* a :class:`~videogen_adapters.cache.DiskCache` — its own
directory is the local tier — so it goes wherever one goes (the muxer's chunks,
``cache/audio.py``'s narrations and music beds) unchanged. On top of it:

* **get** answers from the local directory; on a local miss it downloads the
  object from the storage into the local tier (the adapters' ``fetch`` writes a
  temp file and renames it; the local put is a rename too) and returns that
  local path; None when neither tier has it.
* **put** moves the file into the local tier, then uploads it unless the storage
  holds the key already (content-addressed: whoever put it first put the same
  bytes). Uploads are atomic on every adapter — a single PUT, or a multipart /
  resumable upload that the service publishes only once complete, or a local
  temp file renamed — so no reader ever sees half an object, and two hosts
  putting one key end with one whole object (the last writer's, the same bytes).
* **Storage failures never fail a job**: a failed download is a miss, a failed
  upload leaves the artifact in the local tier only; both are logged and
  counted (``stats.errors``).

Layout on the storage, under ``prefix`` (``.videogen-cache`` by default, inside
the adapter's own bucket prefix)::

    .videogen-cache/data/<key[:2]>/<key><suffix>   the artifact
    .videogen-cache/used/<key[:2]>/<key><suffix>   an empty marker, rewritten when used

The storage tier is bounded in bytes, least recently used first: an object's
last use is the later of its own write time and its marker's (both by the
storage's clock: hosts' clocks never enter). A local hit rewrites the marker at
most every ``touch_after`` seconds per key and process. Eviction lists the
prefix and deletes the least recently used objects (and markers whose object is
gone) until the total is within ``shared_max_bytes``; it runs after an upload
when ``evict_every`` seconds have passed since this process last listed, or
sooner when this process's own uploads take the total it last saw over the
bound. Evictors need no lock: deletes are idempotent, and an object deleted
under a reader is a miss for it (the chunk is encoded again). Between two
listings the bucket may exceed the bound by what other hosts uploaded meanwhile.

Folder ids and ``/media`` keys starting with a dot are refused at the HTTP edge
(:func:`videogen_http.validation.check_id`), so nothing under ``.videogen-cache``
is ever listed as a user's images or served as media.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import time
import uuid
from pathlib import Path
from typing import Any

from videogen_core import NotFound, StoredObject, VideogenError

from ..storage.keys import validate_prefix
from . import _TMP, DiskCache

__all__ = ["DEFAULT_PREFIX", "SharedCache"]

#: Where the shared tier lives in the storage (a leading dot: never a folder id).
DEFAULT_PREFIX = ".videogen-cache"

log = logging.getLogger("videogen.cache")


class SharedCache(DiskCache):
    """A :class:`DiskCache` at ``root`` (the local tier, bounded by ``max_bytes``)
    whose misses are looked up in ``storage`` and whose puts are uploaded there
    (bounded by ``shared_max_bytes``, default ``max_bytes``); see the module
    docstring. ``path``, ``link``, ``size`` and ``evict`` are the local tier's (as
    DiskCache's); ``shared_size``, ``shared_objects`` and ``evict_shared`` the storage's."""

    def __init__(self, root: Path, max_bytes: int, storage: Any, *,
                 prefix: str = DEFAULT_PREFIX, shared_max_bytes: int | None = None,
                 touch_after: float = 600.0, evict_every: float = 300.0) -> None:
        super().__init__(root, max_bytes)
        self.storage = storage
        self.prefix = validate_prefix(prefix)
        if not self.prefix:
            raise ValueError("a shared cache needs a prefix of its own in the storage")
        self.shared_max_bytes = int(max_bytes if shared_max_bytes is None else shared_max_bytes)
        self.touch_after = float(touch_after)
        self.evict_every = float(evict_every)
        self._touched: dict[str, float] = {}  # object key -> monotonic time of our last mark
        self._next_listing = 0.0  # monotonic; 0: list after the first upload
        self._seen_total = 0  # bytes in the storage tier at our last listing
        self._uploaded = 0  # bytes we uploaded since

    def __repr__(self) -> str:
        return f"SharedCache({str(self.root)!r}, {self.storage!r}, prefix={self.prefix!r})"

    def object_key(self, key: str, suffix: str = ".mp4", kind: str = "data") -> str:
        """The storage key of ``key``'s artifact (``kind="data"``) or its use marker
        (``kind="used"``)."""
        self.path(key, suffix)  # the key is checked as the local tier checks it
        return f"{self.prefix}/{kind}/{key[:2]}/{key}{suffix}"

    # ------------------------------------------------------------ lookups
    def get(self, key: str, suffix: str = ".mp4") -> Path | None:
        """The local file of ``key``: from the local tier, else downloaded from the
        storage into it; None when neither has it (or the storage fails)."""
        path = self._lookup(key, suffix)
        if path is not None:
            self._count("hits")
            self._mark_used(key, suffix)
            return path
        path = self._download(key, suffix)
        if path is None:
            self._count("misses")
            return None
        self._count("hits", "remote_hits")
        return path

    def _download(self, key: str, suffix: str) -> Path | None:
        name = self.object_key(key, suffix)
        staging = self.root / _TMP / f"{key}.{os.getpid()}.{uuid.uuid4().hex[:8]}.dl{suffix}"
        try:
            self.storage.fetch(name, staging)
        except NotFound:
            return None
        except VideogenError as exc:
            self._failed("download", name, exc)
            return None
        try:
            path = self._store(key, staging, suffix)
        finally:
            staging.unlink(missing_ok=True)
        self._mark_used(key, suffix, force=True)
        return path

    # --------------------------------------------------------------- puts
    def put(self, key: str, source: Path, suffix: str = ".mp4") -> Path:
        """Move ``source`` into the local tier as ``key`` (atomically), then upload
        it unless the storage has it already. Returns the local path."""
        path = super().put(key, source, suffix)
        name = self.object_key(key, suffix)
        try:
            if self.storage.exists(name):  # another process or host put the same bytes
                self._mark_used(key, suffix, force=True)
                return path
            size = path.stat().st_size
            self.storage.put(path, name, _content_type(suffix))
        except (VideogenError, OSError) as exc:  # OSError: evicted locally meanwhile
            self._failed("upload", name, exc)
            return path
        with self._lock:
            self.stats.uploads += 1
            self._touched[name] = time.monotonic()  # its write time is its last use
            self._uploaded += size
            due = (time.monotonic() >= self._next_listing
                   or self._seen_total + self._uploaded > self.shared_max_bytes)
            if due:  # this thread lists; the others do not pile on
                self._next_listing = time.monotonic() + self.evict_every
        if due:
            self.evict_shared(keep=name)
        return path

    def _mark_used(self, key: str, suffix: str, *, force: bool = False) -> None:
        """Rewrite ``key``'s use marker (at most every ``touch_after`` s unless forced)."""
        name = self.object_key(key, suffix)
        now = time.monotonic()
        with self._lock:
            last = self._touched.get(name)
            if not force and last is not None and now - last < self.touch_after:
                return
            self._touched[name] = now
        marker = self.object_key(key, suffix, "used")
        try:
            self.storage.put_bytes(b"", marker, "application/octet-stream")
        except VideogenError as exc:
            self._failed("mark as used", marker, exc)

    # ----------------------------------------------------------- eviction
    def evict(self, keep: Path | None = None) -> int:
        """Evict the local tier (as :meth:`DiskCache.evict`); the storage tier has
        :meth:`evict_shared`, run by :meth:`put` (see the module docstring)."""
        return super().evict(keep)

    def shared_objects(self) -> list[tuple[StoredObject, float]]:
        """Every artifact in the storage tier with its last use (POSIX seconds by the
        storage's clock), least recently used first."""
        return self._listing()[0]

    def shared_size(self) -> int:
        """Bytes of all artifacts in the storage tier."""
        return sum(obj.size for obj, _ in self._listing()[0])

    def _listing(self) -> tuple[list[tuple[StoredObject, float]], list[str]]:
        """(artifacts with their last use, oldest first; markers whose artifact is gone)."""
        base = self.prefix + "/"
        data: dict[str, StoredObject] = {}
        used: dict[str, float] = {}
        for obj in self.storage.list(self.prefix):
            kind, _, rest = obj.key[len(base):].partition("/")
            if kind == "data":
                data[rest] = obj
            elif kind == "used":
                used[rest] = obj.modified or 0.0
        artifacts = sorted(((obj, max(obj.modified or 0.0, used.get(rest, 0.0)))
                            for rest, obj in data.items()), key=lambda e: (e[1], e[0].key))
        orphans = [f"{base}used/{rest}" for rest in used if rest not in data]
        return artifacts, orphans

    def evict_shared(self, keep: str | None = None) -> int:
        """Delete the least recently used artifacts of the storage tier (``keep``, an
        object key, last of all) until it holds at most ``shared_max_bytes``, and
        the markers of artifacts already gone; returns how many artifacts went."""
        try:
            artifacts, orphans = self._listing()
        except VideogenError as exc:
            self._failed("list", self.prefix, exc)
            return 0
        artifacts.sort(key=lambda e: e[0].key == keep)  # stable: otherwise oldest first
        total = sum(obj.size for obj, _ in artifacts)
        removed = 0
        try:
            for obj, _ in artifacts:
                if total <= self.shared_max_bytes:
                    break
                self.storage.delete(obj.key)
                base, _, rest = obj.key.partition("/data/")
                orphans.append(f"{base}/used/{rest}")
                removed += 1
                total -= obj.size
            for marker in orphans:
                self.storage.delete(marker)
        except VideogenError as exc:
            self._failed("evict", self.prefix, exc)
        with self._lock:
            self.stats.remote_evicted += removed
            self._seen_total, self._uploaded = total, 0
        return removed

    # ------------------------------------------------------------ helpers
    def _count(self, *fields: str) -> None:
        with self._lock:
            for field in fields:
                setattr(self.stats, field, getattr(self.stats, field) + 1)

    def _failed(self, operation: str, name: str, exc: Exception) -> None:
        self._count("errors")
        log.warning("shared cache: %s of %s in %r failed (%s); going on without it",
                    operation, name, self.storage, exc)


def _content_type(suffix: str) -> str:
    return {".m4a": "audio/mp4", ".json": "application/json"}.get(
        suffix, mimetypes.guess_type(f"x{suffix}")[0] or "application/octet-stream")
