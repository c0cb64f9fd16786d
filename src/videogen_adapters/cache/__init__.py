"""Content-addressed artifacts (encoded chunks) in a local directory, bounded in bytes.

``DiskCache`` keeps one file per key under ``<root>/<key[:2]>/<key><suffix>``:

* **put** writes under a unique temporary name in the cache directory and renames
  it into place (``os.replace``: atomic on one filesystem), so a reader never sees
  half a file and two processes writing one key end with one whole artifact
  (theirs are identical by construction: the key is a hash of what decides it);
* **get** touches the file (its mtime is the LRU clock) and returns its path;
  :meth:`DiskCache.link` hard-links it into a job's work directory (a copy across
  filesystems), so an eviction by another process cannot pull it away mid-join;
* **eviction** runs after every put under an exclusive ``flock`` on
  ``<root>/.lock`` (one evictor at a time, across processes): the least recently
  used files go until the total is within ``max_bytes``. Temporary files older
  than an hour (a writer killed mid-way) are swept at the same time.

``stats`` counts hits, misses and puts of this process's cache object.

:class:`~videogen_adapters.cache.shared.SharedCache` is a ``DiskCache`` with a
second tier on the configured Storage, for workers on several hosts.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import attrs

__all__ = ["CacheStats", "DiskCache"]

_TMP = ".tmp"
_STALE_TMP_SECONDS = 3600.0


@attrs.define
class CacheStats:
    """What this cache object did: lookups that hit, lookups that missed, files put,
    files evicted. A :class:`~.shared.SharedCache` also counts hits answered by a
    download (``remote_hits``, part of ``hits``), objects it uploaded, objects it
    evicted from the storage (``remote_evicted``) and storage failures it rode out
    (``errors``: the job goes on as after a miss)."""

    hits: int = 0
    misses: int = 0
    puts: int = 0
    evicted: int = 0
    remote_hits: int = 0
    uploads: int = 0
    remote_evicted: int = 0
    errors: int = 0


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` (no lock where ``fcntl`` is missing)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: eviction races are harmless there too
        yield
        return
    with open(path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class DiskCache:
    """A directory of content-addressed files, least recently used evicted past
    ``max_bytes`` (see the module docstring)."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = Path(root)
        self.max_bytes = int(max_bytes)
        self.stats = CacheStats()
        self._lock = threading.Lock()

    def path(self, key: str, suffix: str = ".mp4") -> Path:
        """Where ``key`` lives (whether or not it is there)."""
        if not key or not all(c.isalnum() or c in "-_" for c in key):
            raise ValueError(f"bad cache key {key!r}")
        return self.root / key[:2] / f"{key}{suffix}"

    def get(self, key: str, suffix: str = ".mp4") -> Path | None:
        """The cached file of ``key`` (touched: used just now), or None."""
        path = self._lookup(key, suffix)
        with self._lock:
            if path is None:
                self.stats.misses += 1
            else:
                self.stats.hits += 1
        return path

    def _lookup(self, key: str, suffix: str) -> Path | None:
        """The file of ``key`` in this directory, touched; None when absent (not counted)."""
        path = self.path(key, suffix)
        try:
            os.utime(path)
        except FileNotFoundError:
            return None
        return path

    def put(self, key: str, source: Path, suffix: str = ".mp4") -> Path:
        """Move (or copy, across filesystems) ``source`` into the cache as ``key``,
        atomically; then evict down to the bound. Returns the cached path."""
        final = self._store(key, source, suffix)
        with self._lock:
            self.stats.puts += 1
        return final

    def _store(self, key: str, source: Path, suffix: str) -> Path:
        """:meth:`put` without counting it."""
        final = self.path(key, suffix)
        tmp_dir = self.root / _TMP
        tmp_dir.mkdir(parents=True, exist_ok=True)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = tmp_dir / f"{key}.{os.getpid()}.{uuid.uuid4().hex[:8]}{suffix}"
        try:
            try:
                os.replace(source, tmp)
            except OSError:
                shutil.copyfile(source, tmp)
            os.replace(tmp, final)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        self.evict(keep=final)
        return final

    def link(self, cached: Path, dest: Path) -> Path:
        """``cached`` at ``dest`` (a hard link, else a copy): safe from eviction."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            dest.unlink()
        try:
            os.link(cached, dest)
        except OSError:
            shutil.copyfile(cached, dest)
        return dest

    def size(self) -> int:
        """Bytes of all cached files (temporary files not counted)."""
        return sum(size for _, size, _ in self._entries())

    def _entries(self) -> list[tuple[Path, int, float]]:
        out: list[tuple[Path, int, float]] = []
        if not self.root.is_dir():
            return out
        for sub in self.root.iterdir():
            if not sub.is_dir() or sub.name == _TMP:
                continue
            for path in sub.iterdir():
                with contextlib.suppress(FileNotFoundError):
                    st = path.stat()
                    out.append((path, st.st_size, st.st_mtime))
        return out

    def evict(self, keep: Path | None = None) -> int:
        """Remove least recently used files until the cache holds at most
        ``max_bytes`` (``keep`` last of all); returns how many went."""
        self.root.mkdir(parents=True, exist_ok=True)
        removed = 0
        with _locked(self.root / ".lock"):
            now = time.time()
            tmp_dir = self.root / _TMP
            if tmp_dir.is_dir():
                for tmp in tmp_dir.iterdir():
                    with contextlib.suppress(FileNotFoundError):
                        if now - tmp.stat().st_mtime > _STALE_TMP_SECONDS:
                            tmp.unlink()
            entries = sorted(self._entries(), key=lambda e: (e[0] == keep, e[2]))
            total = sum(size for _, size, _ in entries)
            for path, size, _ in entries:
                if total <= self.max_bytes:
                    break
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    removed += 1
                total -= size
        with self._lock:
            self.stats.evicted += removed
        return removed
