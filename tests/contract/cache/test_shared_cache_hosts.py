"""The shared cache in use: a chunked render on one "host" is reused by a muxer and
a narrator on another (fresh local cache, the same moto bucket); a storage that
does not answer only costs misses; nothing in the cache is reachable over HTTP."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
from tests.servers import RunningServer, free_port, s3_client
from tests.unit.test_pipeline_stream import FOLDER, VIDEO, ToneNarrator, photo_images, sequence

from videogen_adapters.cache.audio import CachingNarrator
from videogen_adapters.cache.shared import SharedCache
from videogen_adapters.executors import ThreadPoolExecutorAdapter
from videogen_adapters.ffmpeg.kenburns import KenBurnsClipRenderer
from videogen_adapters.ffmpeg.muxer import FfmpegMuxer
from videogen_adapters.storage import InMemoryStorage, LocalDiskStorage, S3Storage
from videogen_adapters.storage.s3 import make_s3_client
from videogen_core.pipeline import VideoPipeline

pytestmark = pytest.mark.server


class CountingNarrator(ToneNarrator):
    def __init__(self) -> None:
        self.calls = 0

    def synthesize(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
        self.calls += 1
        return super().synthesize(*args, **kwargs)  # type: ignore[arg-type]


def host(tmp: Path, name: str, storage: S3Storage
         ) -> tuple[VideoPipeline, FfmpegMuxer, CountingNarrator, SharedCache]:
    cache = SharedCache(tmp / name / "cache", 1 << 30, storage, evict_every=0)
    muxer = FfmpegMuxer(cache=cache)
    inner = CountingNarrator()
    pipeline = VideoPipeline(
        storage=InMemoryStorage(photo_images()), renderer=KenBurnsClipRenderer(),
        narrator=CachingNarrator(inner, cache, "tone"), music=None, muxer=muxer,
        executor=ThreadPoolExecutorAdapter(2), video=VIDEO, workdir=tmp / name / "work",
        render_mode="chunked")
    return pipeline, muxer, inner, cache


def test_a_second_host_reuses_the_first_hosts_chunks_and_narrations(
        tmp_path: Path, moto_session: RunningServer) -> None:
    client = s3_client(moto_session)
    bucket = f"hosts-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    storage = S3Storage(client, bucket, prefix="videogen")
    first, first_muxer, first_voice, _ = host(tmp_path, "a", storage)
    made = first.run(FOLDER, sequence("none"))
    assert (first_muxer.chunk_encodes, first_muxer.audio_mixes, first_voice.calls) == (3, 1, 3)
    second, second_muxer, second_voice, cache = host(tmp_path, "b", storage)
    again = second.run(FOLDER, sequence("none"))
    # nothing encoded, mixed or spoken again: all of it came down from the bucket
    assert (second_muxer.chunk_encodes, second_muxer.chunk_hits) == (0, 3)
    assert (second_muxer.audio_mixes, second_voice.calls) == (0, 0)
    assert cache.stats.remote_hits == cache.stats.hits and cache.stats.misses == 0
    a = first.storage.read_bytes(made.video_key)  # type: ignore[attr-defined]
    b = second.storage.read_bytes(again.video_key)  # type: ignore[attr-defined]
    assert a == b


def test_a_storage_that_does_not_answer_costs_misses_not_jobs(tmp_path: Path) -> None:
    client = make_s3_client(endpoint_url=f"http://127.0.0.1:{free_port()}", max_attempts=1,
                            connect_timeout=1, read_timeout=1, aws_access_key_id="x",
                            aws_secret_access_key="x")
    cache = SharedCache(tmp_path / "cache", 1 << 30, S3Storage(client, "nobody"),
                        evict_every=0, touch_after=0)
    source = tmp_path / "chunk.mp4"
    source.write_bytes(b"chunk bytes")
    stored = cache.put("aa01", source)  # the upload fails: the chunk stays local
    assert stored.read_bytes() == b"chunk bytes"
    assert cache.get("aa01") == stored  # a local hit (marking its use fails quietly)
    assert cache.get("bb02") is None  # the download fails: a miss
    assert cache.stats.uploads == 0 and cache.stats.errors == 3
    assert (cache.stats.hits, cache.stats.misses) == (1, 1)


def test_cache_objects_are_no_folder_and_no_media(tmp_path: Path) -> None:
    from tests.unit.http.conftest import Env

    env = Env(tmp_path)  # the HTTP service over local storage in <data_dir>
    env.add_images("trip", 1)
    storage = LocalDiskStorage(env.settings.data_dir)
    cache = SharedCache(tmp_path / "cache", 1 << 30, storage, touch_after=0)
    source = tmp_path / "chunk.mp4"
    source.write_bytes(b"chunk bytes")
    cache.put("abcd", source)
    cache.get("abcd")
    name = cache.object_key("abcd")
    assert (env.settings.data_dir / name).read_bytes() == b"chunk bytes"
    try:
        client = env.app().test_client()
        for path in (f"/media/{name}", f"/media/{cache.object_key('abcd', kind='used')}",
                     "/folders/.videogen-cache/images", "/folders/.videogen-cache%2Fdata/images"):
            response = client.get(path)
            assert 400 <= response.status_code < 500, (path, response.status_code)
            assert b"chunk bytes" not in response.data
        # nor can an upload put anything there (a poisoned chunk)
        upload = client.post("/folders/.videogen-cache/images",
                             data={"files": (io.BytesIO(b"\x89PNG fake"), "abcd.png")},
                             content_type="multipart/form-data")
        assert 400 <= upload.status_code < 500
        assert sorted(p.name for p in (env.settings.data_dir / ".videogen-cache").iterdir()
                      ) == ["data", "used"]
        listed = client.get("/folders/trip/images").get_json()
        assert listed["count"] == 1 and ".videogen-cache" not in str(listed)
    finally:
        env.close()
