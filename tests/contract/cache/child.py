"""A cache in another process: ``python -m tests.contract.cache.child SPEC ACTION ...``.

SPEC (JSON) says how to reach the backend the test uses, so that this process
builds its own client and its own cache object, as another worker would:
``{"kind": "disk"|"local"|"s3"|"gcs", "root": local tier, "max_bytes": n, ...}``.

Actions:

``put KEY FILL SIZE ROUNDS START``
    wait until the clock reads START, then put KEY ROUNDS times, each time a new
    file of SIZE bytes of FILL (one character).
``hang-upload KEY SIZE FLAG``
    put KEY (SIZE random bytes) and, once part of the upload has gone out, create
    the file FLAG and hang (the test kills this process there).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from videogen_adapters.cache import DiskCache
from videogen_adapters.cache.shared import SharedCache

MiB = 1024 * 1024


def build_storage(spec: dict[str, Any]) -> Any:
    """The storage adapter described by ``spec`` (a fresh client)."""
    kind = spec["kind"]
    if kind == "local":
        from videogen_adapters.storage import LocalDiskStorage

        return LocalDiskStorage(spec["storage_root"])
    if kind == "s3":
        import boto3
        from botocore.config import Config

        from videogen_adapters.storage import S3Storage

        client = boto3.client(
            "s3", endpoint_url=spec["endpoint"], region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
        return S3Storage(client, spec["bucket"], spec.get("prefix", ""),
                         multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    if kind == "gcs":
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        from videogen_adapters.storage import GcsStorage

        client = storage.Client(project="test", credentials=AnonymousCredentials(),
                                client_options={"api_endpoint": spec["endpoint"]})
        return GcsStorage(client, spec["bucket"], spec.get("prefix", ""),
                          resumable_threshold=1 * MiB, chunk_size=1 * MiB, retry_deadline=5)
    raise ValueError(kind)


def build_cache(spec: dict[str, Any]) -> DiskCache:
    """The cache described by ``spec``: a DiskCache, or a SharedCache on its storage."""
    root, max_bytes = Path(spec["root"]), int(spec["max_bytes"])
    if spec["kind"] == "disk":
        return DiskCache(root, max_bytes)
    return SharedCache(root, max_bytes, build_storage(spec), evict_every=0, touch_after=0)


def _hang_when_part_of_the_upload_went_out(spec: dict[str, Any], storage: Any,
                                           flag: Path) -> None:
    """Arm the storage's client so that the upload stops for good half-way."""

    def hang() -> None:
        flag.touch()
        time.sleep(600)

    if spec["kind"] == "s3":
        def before_part(params: dict[str, Any], **kwargs: Any) -> None:
            if params.get("PartNumber") == 2:  # part 1 is on its way: stop before part 2
                hang()

        storage.client.meta.events.register("provide-client-params.s3.UploadPart",
                                            before_part)
    elif spec["kind"] == "gcs":
        def after_chunk(response: Any, *args: Any, **kwargs: Any) -> Any:
            if response.request.method == "PUT" and response.status_code == 308:
                hang()  # the emulator took a chunk and awaits the rest
            return response

        storage.client._http.hooks["response"].append(after_chunk)
    elif spec["kind"] == "local":
        import videogen_adapters.storage.local as local

        def half_then_hang(source: Path, target: Path) -> None:
            data = Path(source).read_bytes()
            with open(target, "wb") as out:
                out.write(data[: len(data) // 2])
                out.flush()
                hang()

        local.copy_file = half_then_hang  # type: ignore[assignment]
    else:
        raise ValueError(spec["kind"])


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    action = argv[1]
    cache = build_cache(spec)
    work = Path(spec["root"]).parent / f"work-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    if action == "put":
        key, fill, size, rounds, start = argv[2], argv[3], int(argv[4]), int(argv[5]), argv[6]
        while time.time() < float(start):
            time.sleep(0.001)
        for k in range(rounds):
            source = work / f"{k}.bin"
            source.write_bytes(fill.encode() * size)
            cache.put(key, source)
        return 0
    if action == "hang-upload":
        key, size, flag = argv[2], int(argv[3]), Path(argv[4])
        assert isinstance(cache, SharedCache)
        _hang_when_part_of_the_upload_went_out(spec, cache.storage, flag)
        source = work / "big.bin"
        source.write_bytes(os.urandom(size))
        cache.put(key, source)
        return 3  # never reached: the upload hangs until the test kills us
    raise ValueError(action)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
