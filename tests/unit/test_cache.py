"""DiskCache: hits counted, the LRU bound held, two processes writing one key."""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from pathlib import Path

import pytest

from videogen_adapters.cache import DiskCache


def _file(path: Path, size: int, fill: bytes = b"x") -> Path:
    path.write_bytes(fill * size)
    return path


def test_put_then_get_counts_hits_and_misses(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "c", 10_000)
    assert cache.get("aa11") is None
    stored = cache.put("aa11", _file(tmp_path / "a", 100))
    assert cache.get("aa11") == stored and stored.read_bytes() == b"x" * 100
    assert (cache.stats.hits, cache.stats.misses, cache.stats.puts) == (1, 1, 1)
    assert not (tmp_path / "a").exists()  # moved in, not left behind
    assert list((tmp_path / "c" / ".tmp").iterdir()) == []


def test_lru_eviction_keeps_the_bound_and_the_recently_used(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "c", 3_500)
    for k in range(3):
        cache.put(f"k{k}", _file(tmp_path / "f", 1000))
        os.utime(cache.path(f"k{k}"), (time.time() - 100 + k, time.time() - 100 + k))
    cache.get("k0")  # k0 is now the most recently used; k1 the least
    cache.put("k3", _file(tmp_path / "f", 1000))
    assert cache.size() <= 3_500
    assert cache.get("k1") is None
    assert all(cache.get(k) is not None for k in ("k0", "k2", "k3"))
    assert cache.stats.evicted == 1
    cache.put("k4", _file(tmp_path / "f", 3_000))  # the newest stays, the rest go
    assert cache.size() <= 3_500 and cache.get("k4") is not None


def test_a_linked_copy_survives_eviction(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "c", 1_500)
    held = cache.link(cache.put("a1", _file(tmp_path / "f", 1000)), tmp_path / "work" / "a.mp4")
    cache.put("b1", _file(tmp_path / "f", 1000))
    assert cache.get("a1") is None
    assert held.read_bytes() == b"x" * 1000


def test_bad_keys_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        DiskCache(tmp_path, 1).path("../etc")


def _writer(root: str, fill: bytes, rounds: int, start: float) -> None:
    cache = DiskCache(Path(root), 50_000_000)
    while time.time() < start:
        time.sleep(0.001)
    work = Path(root).parent / f"w{fill.decode()}"
    work.mkdir(exist_ok=True)
    for k in range(rounds):
        cache.put("samekey", _file(work / f"{k}.bin", 2_000_000, fill))


def test_two_processes_writing_one_key_end_with_one_whole_artifact(tmp_path: Path) -> None:
    root = tmp_path / "c"
    ctx = mp.get_context("spawn")
    start = time.time() + 1.5
    procs = [ctx.Process(target=_writer, args=(str(root), fill, 15, start))
             for fill in (b"a", b"b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    data = DiskCache(root, 1).path("samekey").read_bytes()
    assert data in (b"a" * 2_000_000, b"b" * 2_000_000)
    assert list((root / ".tmp").iterdir()) == []
    assert [p.name for p in (root / "sa").iterdir()] == ["samekey.mp4"]
