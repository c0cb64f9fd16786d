"""What the shared cache costs in storage requests (a count, not a timing).

A chunked render of N scenes (Ken Burns, narration, no music) on "host A" with a
SharedCache on a moto S3 bucket, then the same render on "host B" (a fresh local
cache, the same bucket), then again on host B (everything local now). For each
run: the S3 requests by operation and the bytes that went up and down.

    .venv/bin/python benchmarks/shared_cache_requests.py --scenes 3
    .venv/bin/python benchmarks/shared_cache_requests.py --scenes 8 --size 1024x576 --fps 24
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.servers import moto_server, s3_client  # noqa: E402
from tests.unit.test_pipeline_stream import FOLDER, ToneNarrator, photo_images  # noqa: E402

from videogen_adapters.cache.audio import CachingNarrator  # noqa: E402
from videogen_adapters.cache.shared import SharedCache  # noqa: E402
from videogen_adapters.executors import ThreadPoolExecutorAdapter  # noqa: E402
from videogen_adapters.ffmpeg.kenburns import KenBurnsClipRenderer  # noqa: E402
from videogen_adapters.ffmpeg.muxer import FfmpegMuxer  # noqa: E402
from videogen_adapters.storage import InMemoryStorage, S3Storage  # noqa: E402
from videogen_core import Scene, Sequence, VideoSettings  # noqa: E402
from videogen_core.model import GenerationParams  # noqa: E402
from videogen_core.pipeline import VideoPipeline  # noqa: E402


def run(tmp: Path, host: str, storage: S3Storage, scenes: int, video: VideoSettings
        ) -> tuple[FfmpegMuxer, SharedCache]:
    cache = SharedCache(tmp / host / "cache", 1 << 34, storage)
    muxer = FfmpegMuxer(cache=cache)
    photos = photo_images()
    images = {f"{FOLDER}/scene_{n}.jpg": photos[f"{FOLDER}/scene_1.jpg"]
              for n in range(1, scenes + 1)}
    pipeline = VideoPipeline(
        storage=InMemoryStorage(images), renderer=KenBurnsClipRenderer(),
        narrator=CachingNarrator(ToneNarrator(), cache, "tone"), music=None, muxer=muxer,
        executor=ThreadPoolExecutorAdapter(2), video=video, workdir=tmp / host / "work",
        render_mode="chunked")
    sequence = Sequence([Scene(n, f"Scene number {n} speaks.", 2.0, "slow zoom in", "calm")
                         for n in range(1, scenes + 1)],
                        GenerationParams(transition_type="none", seed=1, fps=video.fps))
    pipeline.run(FOLDER, sequence)
    return muxer, cache


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=3)
    parser.add_argument("--size", default="64x36")
    parser.add_argument("--fps", type=int, default=12)
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))
    video = VideoSettings(width=width, height=height, fps=args.fps, crf=20, preset="ultrafast")
    with moto_server() as server, tempfile.TemporaryDirectory() as tmp_dir:
        client = s3_client(server)
        bucket = f"bench-{uuid.uuid4().hex[:8]}"
        client.create_bucket(Bucket=bucket)
        counts: collections.Counter[str] = collections.Counter()
        moved = collections.Counter()

        def count(model: Any, params: dict[str, Any], **_: Any) -> None:
            counts[model.name] += 1
            body = params.get("body")
            if model.name in ("PutObject", "UploadPart") and hasattr(body, "__len__"):
                moved["up"] += len(body)

        def received(http_response: Any, operation_name: str = "", **_: Any) -> None:
            if operation_name == "GetObject" and http_response is not None:
                moved["down"] += int(http_response.headers.get("content-length", 0))

        client.meta.events.register("before-call.s3", count)
        client.meta.events.register("after-call.s3", lambda **kw: received(
            kw.get("http_response"), kw.get("model").name if kw.get("model") else ""))
        storage = S3Storage(client, bucket, prefix="videogen")
        tmp = Path(tmp_dir)
        print(f"{args.scenes} scenes, {args.size} @ {args.fps} fps, chunked, narration cached")
        for label, host in (("host A, cold", "a"), ("host B, from the bucket", "b"),
                            ("host B again, local", "b")):
            counts.clear()
            moved.clear()
            muxer, cache = run(tmp, host, storage, args.scenes, video)
            ops = ", ".join(f"{name} {n}" for name, n in sorted(counts.items()))
            print(f"{label:26s} encodes {muxer.chunk_encodes} hits {muxer.chunk_hits} "
                  f"mixes {muxer.audio_mixes} | requests {sum(counts.values())}: {ops} | "
                  f"up {moved['up']} B, down {moved['down']} B | "
                  f"cache hits {cache.stats.hits} (remote {cache.stats.remote_hits})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
