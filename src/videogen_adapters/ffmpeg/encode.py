"""Encoding a stream of raw frames into a clip with the final settings.

Both the Ken Burns renderer and :func:`~videogen_adapters.ffmpeg.conform.conform_clip`
produce frames in Python and pipe them here as ``yuv420p``; the encoder forces
an IDR frame at every cut frame (see :func:`~videogen_adapters.ffmpeg.commands.x264_args`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, TypeVar

from videogen_core.errors import RenderFailed
from videogen_core.model import VideoSettings
from videogen_core.progress import CancelToken

from . import commands
from .runner import FfmpegRunner, atomic_output

__all__ = ["encode_frames", "prefetch"]

T = TypeVar("T")


def prefetch(jobs: Iterable[Callable[[], T]], depth: int = 3) -> Iterator[T]:
    """Run the frame-producing ``jobs`` ahead on a helper thread (``depth`` in flight)
    so that resampling overlaps with writing to ffmpeg; results come in order."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="videogen-frames")
    pending: list[Future[T]] = []
    try:
        iterator = iter(jobs)
        for job in iterator:
            pending.append(pool.submit(job))
            if len(pending) >= depth:
                yield pending.pop(0).result()
        while pending:
            yield pending.pop(0).result()
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True)


def encode_frames(
    runner: FfmpegRunner,
    frames: Iterable[bytes],
    output_path: Path,
    settings: VideoSettings,
    count: int,
    *,
    cut_frames: Iterable[int] = (),
    stage: str = "render",
    progress: Callable[[float], None] | None = None,
    cancel: CancelToken | None = None,
    video_filter: str | None = None,
    faststart: bool = True,
) -> None:
    """Pipe exactly ``count`` raw ``yuv420p`` frames into an H.264 MP4 at
    ``output_path`` (written atomically). Fewer frames than ``count`` is an error.
    """
    cut_frames = tuple(cut_frames)
    expected = settings.width * settings.height * 3 // 2
    written = 0
    lock = threading.Lock()

    def feed(stdin: IO[bytes]) -> None:
        nonlocal written
        for frame in frames:
            if cancel is not None:
                cancel.raise_if_cancelled()
            if len(frame) != expected:
                raise RenderFailed(stage, f"frame of {len(frame)} bytes, expected {expected}")
            stdin.write(frame)
            with lock:
                written += 1
            if progress is not None:
                progress(min(1.0, written / count))
            if written >= count:
                break

    with atomic_output(output_path) as tmp:
        argv = commands.encode_raw_args(runner.ffmpeg, tmp, settings, count,
                                        cut_frames=cut_frames,
                                        video_filter=video_filter, faststart=faststart)
        runner.run(argv, stage=stage, cancel=cancel, feed=feed)
        if written < count:
            raise RenderFailed(stage, f"only {written} of {count} frames were produced")
