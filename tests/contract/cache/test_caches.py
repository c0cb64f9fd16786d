"""The cache contract on DiskCache and on SharedCache over local disk, moto S3 and the
GCS emulator (real servers, started once per session)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from tests.contract.cache.cache_contract import Backend, CacheContract, SharedCacheContract
from tests.servers import RunningServer, gcs_client, s3_client

from videogen_adapters.cache import DiskCache
from videogen_adapters.cache.shared import SharedCache
from videogen_adapters.storage import GcsStorage, LocalDiskStorage, S3Storage

MiB = 1024 * 1024


def shared_maker(storage: Any) -> Any:
    """SharedCache on ``storage``; tests see every use and evict after every upload
    unless they say otherwise."""

    def make(root: Path, max_bytes: int, **options: Any) -> SharedCache:
        options.setdefault("touch_after", 0)
        options.setdefault("evict_every", 0)
        return SharedCache(root, max_bytes, storage, **options)

    return make


class TestDiskCache(CacheContract):
    """One machine: every "host" is another cache object on the one directory."""

    @pytest.fixture
    def backend(self, tmp_path: Path) -> Backend:
        return Backend(tmp_path, lambda root, max_bytes: DiskCache(root, max_bytes),
                       {"kind": "disk"}, shared=False)


class TestSharedCacheOnLocalDisk(SharedCacheContract):
    """A storage directory every host mounts (NFS and the like)."""

    @pytest.fixture
    def backend(self, tmp_path: Path) -> Backend:
        storage = LocalDiskStorage(tmp_path / "bucket")
        return Backend(tmp_path, shared_maker(storage),
                       {"kind": "local", "storage_root": str(tmp_path / "bucket")},
                       shared=True, storage=storage)


class TestSharedCacheOnS3(SharedCacheContract):
    """moto S3, the adapter under a bucket prefix, multipart above 5 MiB."""

    @pytest.fixture
    def backend(self, tmp_path: Path, moto_session: RunningServer) -> Backend:
        client = s3_client(moto_session)
        bucket = f"cache-{uuid.uuid4().hex[:12]}"
        client.create_bucket(Bucket=bucket)
        storage = S3Storage(client, bucket, prefix="tenant/videogen",
                            multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
        spec = {"kind": "s3", "endpoint": moto_session.url, "bucket": bucket,
                "prefix": "tenant/videogen"}
        return Backend(tmp_path, shared_maker(storage), spec, shared=True, tick=1.1,
                       storage=storage)


class TestSharedCacheOnGcs(SharedCacheContract):
    """The GCS emulator, chunked resumable uploads above 1 MiB."""

    @pytest.fixture
    def backend(self, tmp_path: Path, gcs_session: RunningServer) -> Backend:
        client = gcs_client(gcs_session)
        bucket = f"cache-{uuid.uuid4().hex[:12]}"
        client.create_bucket(bucket)
        storage = GcsStorage(client, bucket, resumable_threshold=1 * MiB, chunk_size=1 * MiB,
                             retry_deadline=5)
        spec = {"kind": "gcs", "endpoint": gcs_session.url, "bucket": bucket}
        return Backend(tmp_path, shared_maker(storage), spec, shared=True, storage=storage)
