"""The contract of the artifact cache: :class:`DiskCache` and :class:`SharedCache`
on every storage pass the same behaviour suite.

Subclass :class:`CacheContract` and provide a ``backend`` fixture: a
:class:`Backend` that makes cache objects on a given local directory and
describes itself to :mod:`tests.contract.cache.child` (another process). A
"host" is a cache object on a local directory of its own: for a DiskCache all
hosts share one directory (the cache of one machine, several processes); for a
SharedCache each has a fresh directory and they meet in the storage.
:class:`SharedCacheContract` adds what only the storage tier does.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from videogen_adapters.cache import DiskCache
from videogen_adapters.cache.shared import SharedCache

__all__ = ["Backend", "CacheContract", "SharedCacheContract"]

REPO = Path(__file__).resolve().parents[3]
MiB = 1024 * 1024


@dataclass
class Backend:
    """How a test makes caches: ``make(root, max_bytes, **options)``; ``spec`` for a
    child process; ``tick``: seconds that tell two uses apart (S3 keeps whole seconds)."""

    tmp: Path
    make: Callable[..., DiskCache]
    spec: dict[str, Any]
    shared: bool
    tick: float = 0.05
    storage: Any = None
    _hosts: itertools.count[int] = field(default_factory=itertools.count)

    def host(self, max_bytes: int = 1 << 30, **options: Any) -> DiskCache:
        """A cache on a new host (a fresh local directory; DiskCache: the one directory)."""
        root = self.tmp / (f"host{next(self._hosts)}" if self.shared else "host")
        return self.make(root, max_bytes, **options)

    def child(self, *args: str, root: Path | None = None, max_bytes: int = 1 << 30
              ) -> subprocess.Popen[bytes]:
        """``tests.contract.cache.child`` in a process of its own, as another host."""
        host = root or self.tmp / (f"host{next(self._hosts)}" if self.shared else "host")
        spec = {**self.spec, "root": str(host), "max_bytes": max_bytes}
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(REPO / "src"), str(REPO), os.environ.get("PYTHONPATH", "")])}
        return subprocess.Popen([sys.executable, "-m", "tests.contract.cache.child",
                                 json.dumps(spec), *args], cwd=REPO, env=env,
                                stderr=subprocess.PIPE)


def source(tmp: Path, data: bytes) -> Path:
    """A new file holding ``data`` (what a muxer hands the cache)."""
    path = tmp / "sources" / f"{time.monotonic_ns()}-{threading.get_ident()}.bin"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


class CacheContract:
    """Behaviour every cache shows (see the module docstring)."""

    @pytest.fixture
    def backend(self) -> Backend:
        """The backend under test."""
        raise NotImplementedError

    # ----------------------------------------------------------- basics
    def test_a_miss_then_a_put_then_a_hit_gives_the_same_bytes(self, backend: Backend) -> None:
        cache = backend.host()
        data = os.urandom(70_000)
        assert cache.get("ab12") is None
        given = source(backend.tmp, data)
        stored = cache.put("ab12", given)
        assert stored == cache.path("ab12") and stored.is_relative_to(cache.root)
        assert not given.exists()  # moved in, not copied beside
        assert stored.read_bytes() == data
        assert cache.get("ab12") == stored
        assert (cache.stats.hits, cache.stats.misses, cache.stats.puts) == (1, 1, 1)

    def test_each_suffix_is_an_entry_of_its_own(self, backend: Backend) -> None:
        cache = backend.host()
        cache.put("cd34", source(backend.tmp, b"mixed audio"), ".m4a")
        cache.put("cd34", source(backend.tmp, b'{"i": -14.0}'), ".json")
        assert cache.get("cd34", ".mp4") is None
        assert cache.get("cd34", ".m4a").read_bytes() == b"mixed audio"  # type: ignore[union-attr]
        assert cache.get("cd34", ".json").read_bytes() == b'{"i": -14.0}'  # type: ignore[union-attr]

    def test_bad_keys_are_refused(self, backend: Backend) -> None:
        cache = backend.host()
        for key in ["", "../etc", "a/b", "a.b", "x y"]:
            with pytest.raises(ValueError):
                cache.get(key)
            with pytest.raises(ValueError):
                cache.put(key, source(backend.tmp, b"x"))

    def test_a_linked_copy_survives_eviction(self, backend: Backend) -> None:
        cache = backend.host(1_500)
        held = cache.link(cache.put("a1", source(backend.tmp, b"a" * 1000)),
                          backend.tmp / "work" / "a.mp4")
        time.sleep(backend.tick)
        cache.put("b1", source(backend.tmp, b"b" * 1000))
        assert not cache.path("a1").exists()
        assert held.read_bytes() == b"a" * 1000

    # ------------------------------------------------------ other hosts
    def test_another_host_sees_what_one_put(self, backend: Backend) -> None:
        data = os.urandom(300_000)
        backend.host().put("ef56", source(backend.tmp, data))
        other = backend.host()
        found = other.get("ef56")
        assert found is not None and found.is_relative_to(other.root)
        assert found.read_bytes() == data
        assert other.stats.hits == 1 and other.stats.misses == 0

    def test_threads_putting_one_key_leave_one_whole_artifact(self, backend: Backend) -> None:
        size = 2 * MiB
        caches = [backend.host() for _ in range(4)]
        fills = [b"a", b"b", b"c", b"d"]
        start = threading.Barrier(len(caches))
        errors: list[BaseException] = []

        def writer(cache: DiskCache, fill: bytes) -> None:
            try:
                start.wait()
                for _ in range(3):
                    cache.put("samekey", source(backend.tmp, fill * size))
            except BaseException as exc:  # reported below, with the thread's name
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=pair)
                   for pair in zip(caches, fills, strict=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert errors == []
        data = backend.host().get("samekey").read_bytes()  # type: ignore[union-attr]
        assert data in {f * size for f in fills}
        for cache in caches:  # every local tier holds one whole file too
            assert cache.path("samekey").read_bytes() in {f * size for f in fills}
            assert [p.name for p in cache.path("samekey").parent.iterdir()] == ["samekey.mp4"]

    def test_processes_putting_one_key_leave_one_whole_artifact(self, backend: Backend) -> None:
        size = 2 * MiB
        start = str(time.time() + 3.0)  # all started (imports done) before any writes
        children = [backend.child("put", "samekey", fill, str(size), "5", start)
                    for fill in "ab"]
        for child in children:
            _, err = child.communicate(timeout=180)
            assert child.returncode == 0, err.decode()[-2000:]
        data = backend.host().get("samekey").read_bytes()  # type: ignore[union-attr]
        assert data in {b"a" * size, b"b" * size}

    # ----------------------------------------------------------- LRU
    def test_the_least_recently_used_go_first(self, backend: Backend) -> None:
        cache = backend.host(3_500)
        for k in range(3):
            cache.put(f"k{k}", source(backend.tmp, bytes([k]) * 1000))
            time.sleep(backend.tick)
        assert cache.get("k0") is not None  # k0 used again: k1 is now the oldest
        time.sleep(backend.tick)
        cache.put("k3", source(backend.tmp, b"3" * 1000))
        assert cache.size() <= 3_500
        assert cache.get("k1") is None  # gone from every tier
        for k in (0, 2, 3):
            assert cache.get(f"k{k}") is not None, k
        time.sleep(backend.tick)
        cache.put("k4", source(backend.tmp, b"4" * 3_000))  # the newest stays, the rest go
        assert cache.size() <= 3_500
        assert cache.get("k4").read_bytes() == b"4" * 3_000  # type: ignore[union-attr]


class SharedCacheContract(CacheContract):
    """What only the storage tier does; ``backend.storage`` is the shared storage."""

    def test_a_second_host_downloads_into_its_own_tier_once(self, backend: Backend) -> None:
        first = backend.host()
        data = os.urandom(100_000)
        first.put("9a9a", source(backend.tmp, data))
        second = backend.host()
        assert isinstance(second, SharedCache)
        assert not second.path("9a9a").exists()
        assert second.get("9a9a").read_bytes() == data  # type: ignore[union-attr]
        assert second.path("9a9a").read_bytes() == data  # now local
        assert second.get("9a9a") == second.path("9a9a")
        assert (second.stats.hits, second.stats.remote_hits, second.stats.misses) == (2, 1, 0)
        assert second.stats.uploads == 0 and first.stats.uploads == 1
        assert not [p for p in (second.root / ".tmp").iterdir()]  # no staging file left

    def test_a_put_of_a_key_already_stored_uploads_nothing(self, backend: Backend) -> None:
        first, second = backend.host(), backend.host()
        first.put("77aa", source(backend.tmp, b"same bytes"))
        second.put("77aa", source(backend.tmp, b"same bytes"))
        assert (first.stats.uploads, second.stats.uploads) == (1, 0)
        assert second.path("77aa").read_bytes() == b"same bytes"

    def test_objects_live_under_the_prefix_only(self, backend: Backend) -> None:
        cache = backend.host(touch_after=0)
        assert isinstance(cache, SharedCache)
        cache.put("c0ffee", source(backend.tmp, b"x" * 10), ".m4a")
        cache.get("c0ffee", ".m4a")  # a local hit writes the use marker (touch_after 0)
        keys = sorted(o.key for o in backend.storage.list())
        assert keys == [".videogen-cache/data/c0/c0ffee.m4a",
                        ".videogen-cache/used/c0/c0ffee.m4a"]
        assert backend.storage.stat(keys[0]).size == 10
        assert cache.shared_size() == 10

    def test_a_local_hit_marks_use_at_most_every_touch_after(self, backend: Backend) -> None:
        cache = backend.host(touch_after=3600)
        assert isinstance(cache, SharedCache)
        cache.put("d00d", source(backend.tmp, b"x"))
        for _ in range(3):
            assert cache.get("d00d") is not None
        marker = cache.object_key("d00d", kind="used")
        assert not backend.storage.exists(marker)  # its upload was its last use
        later = backend.host(touch_after=3600)  # another process: its first hit marks
        later.get("d00d")  # a download (marks use)
        assert backend.storage.exists(marker)

    def test_use_on_another_host_keeps_an_object_in_the_storage(self,
                                                                backend: Backend) -> None:
        # the maker keeps everything locally; the storage tier holds 3 of 4 objects
        maker = backend.host(1 << 30, shared_max_bytes=3_500)
        reader = backend.host()
        assert isinstance(maker, SharedCache)
        for k in range(3):
            maker.put(f"u{k}", source(backend.tmp, bytes([k]) * 1000))
            time.sleep(backend.tick)
        assert reader.get("u0") is not None  # used on another host: u1 is the oldest now
        time.sleep(backend.tick)
        maker.put("u3", source(backend.tmp, b"3" * 1000))
        assert maker.stats.remote_evicted == 1
        assert [obj.key.rsplit("/", 1)[1] for obj, _ in maker.shared_objects()] == [
            "u2.mp4", "u0.mp4", "u3.mp4"]  # least recently used first
        assert maker.shared_size() <= 3_500
        assert not backend.storage.exists(maker.object_key("u1", kind="used"))
        assert backend.host().get("u1") is None  # a new host finds it nowhere
        assert maker.get("u1") is not None  # the maker's local tier still has it

    def test_an_interrupted_upload_leaves_no_visible_object(self, backend: Backend) -> None:
        flag = backend.tmp / "uploading"
        # above S3's multipart threshold and the size up to which GCS uploads in one
        # request whatever the chunk size (8 MiB): a multipart / resumable upload
        size = 9 * MiB + 7
        child = backend.child("hang-upload", "beef01", str(size), str(flag))
        try:
            deadline = time.monotonic() + 120
            while not flag.exists():
                assert child.poll() is None, child.communicate()[1].decode()[-2000:]
                assert time.monotonic() < deadline, "the upload never started"
                time.sleep(0.05)
            child.send_signal(signal.SIGKILL)  # a worker killed mid-upload
        finally:
            child.kill()
            child.communicate(timeout=30)
        probe = backend.host()
        assert isinstance(probe, SharedCache)
        assert not backend.storage.exists(probe.object_key("beef01"))
        assert backend.storage.list() == []
        assert probe.get("beef01") is None and probe.stats.errors == 0
        data = os.urandom(size)  # a retry by another host works
        backend.host().put("beef01", source(backend.tmp, data))
        assert backend.host().get("beef01").read_bytes() == data  # type: ignore[union-attr]
