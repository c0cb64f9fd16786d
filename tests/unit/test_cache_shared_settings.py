"""VIDEOGEN_CACHE_SHARED: which configurations get a cache tier on the storage, and
that the pipeline's muxer, narrator and music caches all use the pipeline's storage."""

from __future__ import annotations

from pathlib import Path

import pytest

from videogen_adapters.cache import DiskCache
from videogen_adapters.cache.shared import SharedCache
from videogen_adapters.config import Settings
from videogen_adapters.orchestrator import build_cache, build_muxer, build_pipeline
from videogen_adapters.storage import InMemoryStorage
from videogen_core import InvalidRequest


@pytest.mark.parametrize(("shared", "executor", "storage", "expected"), [
    ("auto", "threads", "local", False),
    ("auto", "celery", "local", False),  # one machine's disk: the local cache is enough
    ("auto", "threads", "s3", False),  # one process renders every job
    ("auto", "celery", "s3", True),
    ("auto", "celery", "gcs", True),
    ("auto", "celery", "firebase", True),
    ("auto", "celery", "memory", False),
    ("on", "threads", "local", True),
    ("off", "celery", "s3", False),
])
def test_when_the_cache_is_shared(shared: str, executor: str, storage: str,
                                  expected: bool) -> None:
    assert Settings(cache_shared=shared, executor=executor,
                    storage=storage).shares_cache is expected


def test_the_setting_is_read_and_checked() -> None:
    assert Settings.from_env({}).cache_shared == "auto"
    assert Settings.from_env({"VIDEOGEN_CACHE_SHARED": "ON"}).cache_shared == "on"
    with pytest.raises(InvalidRequest) as info:
        Settings.from_env({"VIDEOGEN_CACHE_SHARED": "sometimes"})
    assert info.value.field == "VIDEOGEN_CACHE_SHARED"


def test_build_cache_fronts_the_given_storage(tmp_path: Path) -> None:
    local = build_cache(Settings(data_dir=tmp_path, cache_max_gb=0.5))
    assert type(local) is DiskCache and local.max_bytes == 500_000_000
    storage = InMemoryStorage()
    shared = build_cache(Settings(data_dir=tmp_path, cache_shared="on", cache_max_gb=0.5),
                         storage)
    assert isinstance(shared, SharedCache) and shared.storage is storage
    assert shared.root == tmp_path / ".videogen" / "cache"
    assert (shared.max_bytes, shared.shared_max_bytes) == (500_000_000, 500_000_000)
    # no storage given: one is built from the settings (the HTTP container's case)
    built = build_muxer(Settings(data_dir=tmp_path, cache_shared="on", storage="local"))
    assert isinstance(built.cache, SharedCache)  # type: ignore[attr-defined]
    assert built.cache.storage.root == tmp_path.resolve()  # type: ignore[attr-defined]


def test_the_pipeline_shares_its_own_storage(tmp_path: Path) -> None:
    storage = InMemoryStorage()
    p = build_pipeline(Settings(data_dir=tmp_path, cache_shared="on", narrator="silent",
                                music="synth"), storage=storage)
    caches = [p.muxer.cache, p.narrator.cache, p.music.cache]  # type: ignore[attr-defined]
    assert all(isinstance(c, SharedCache) and c.storage is storage for c in caches)
    plain = build_pipeline(Settings(data_dir=tmp_path, narrator="silent", music="synth"),
                           storage=storage)
    assert type(plain.muxer.cache) is DiskCache  # type: ignore[attr-defined]
