"""The whole video as one stream of raw frames: clips, transitions blended in YUV.

When the clips arrive as :class:`~videogen_core.ports.FrameSource` objects
(the Ken Burns renderer streams them), the muxer does not join encoded clips:
:func:`composed_frames` walks the :class:`~videogen_core.timeline.Timeline`
frame by frame and yields every output frame once, in order, for ONE
long-running x264 encoder:

* a scene's body frames pass through untouched;
* ``crossfade``: over the ``overlap_frames`` two scenes share, the outgoing
  and incoming frames are mixed with weights ``(j+1)/(N+1)`` — neither end of
  the overlap is a pure copy, so the cut never shows;
* ``fade``: the last ``fade_frames`` of a scene go down to black
  (``(N-1-k)/N``) and the next scene's first ``fade_frames`` come up from
  black (``k/N``); black is limited-range ``Y=16, Cb=Cr=128``.

Blending works on the ``yuv420p`` bytes with 8-bit fixed-point weights
(numpy), which is what ffmpeg's blend/xfade do on the same planes. The next
scene is prepared (image decoded and pre-scaled) on a helper thread while the
current one streams, so the encoder never waits for an image to load. Memory
is a few frames plus at most two prepared images, whatever the video's length.

A clip given as a file (a generative renderer's, e.g. ComfyUI) enters the same
stream as a :class:`FileFrameSource`: decoded frame for frame when it already
fits (size, fps, ``yuv420p``), else decoded and fitted like ``conform_clip``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from videogen_core.errors import RenderFailed
from videogen_core.model import VideoSettings
from videogen_core.ports import ClipRequest, FrameSource
from videogen_core.progress import CancelToken
from videogen_core.timeline import Timeline

__all__ = ["FileFrameSource", "black_frame", "blend", "composed_frames", "frame_size"]


def frame_size(settings: VideoSettings) -> int:
    """Bytes of one ``yuv420p`` frame at ``settings``' size."""
    w, h = settings.width, settings.height
    return w * h + 2 * ((w + 1) // 2) * ((h + 1) // 2)


def black_frame(settings: VideoSettings) -> bytes:
    """A limited-range black ``yuv420p`` frame."""
    luma = settings.width * settings.height
    return bytes([16]) * luma + bytes([128]) * (frame_size(settings) - luma)


def blend(a: bytes, b: bytes, weight: float) -> bytes:
    """``a·(1−weight) + b·weight`` per byte (8-bit fixed point, rounded)."""
    k = min(256, max(0, round(weight * 256)))
    if k == 0:
        return a
    if k == 256:
        return b
    x = np.frombuffer(a, np.uint8).astype(np.uint16)
    y = np.frombuffer(b, np.uint8).astype(np.uint16)
    x *= 256 - k
    y *= k
    x += y
    x += 128
    x >>= 8
    return x.astype(np.uint8).tobytes()


class FileFrameSource:
    """An encoded clip file as a :class:`~videogen_core.ports.FrameSource`: the way a
    clip file (a generative renderer's) enters the one encoder.

    A file of the request's size, frame rate and ``yuv420p`` is decoded straight into
    raw frames — no RGB round trip, no scaling — and held or cut to the scene's
    length; any other is decoded and fitted exactly as
    :func:`~.conform.conform_clip` does. :meth:`misfit` says which (and why)."""

    def __init__(self, path: Path, request: ClipRequest) -> None:
        self.path = Path(path)
        self.request = request
        self._misfit: tuple[str, bool] | None = None

    @property
    def frame_count(self) -> int:
        """Frames of the scene on the timeline."""
        return self.request.frames

    def misfit(self) -> str:
        """Why the file does not fit the request as it is (``""``: it does, and its
        frames are passed through). Reads the stream's header only; an unreadable
        file is a RenderFailed naming it. A file that differs in length only is
        still passed through (its last frame held, or its end left out)."""
        if self._misfit is None:
            self._misfit = _misfit(self.path, self.request)
        return self._misfit[0]

    def prepare(self) -> None:
        """Read the file's header (the decode itself happens as the frames stream)."""
        self.misfit()

    def open(self) -> Iterator[bytes]:
        """The file's frames, fitted, held or cut to the scene's length."""
        self.misfit()
        if self._misfit is not None and self._misfit[1]:
            return _direct_frames(self.path, self.request.frames)
        from .conform import conformed_frames

        return conformed_frames(self.path, self.request)

    def __repr__(self) -> str:
        return f"FileFrameSource({self.path.name!r}, frames={self.frame_count})"


def _misfit(path: Path, request: ClipRequest) -> tuple[str, bool]:
    """What keeps ``path`` from fitting ``request`` (``""``: nothing), and whether its
    frames can be passed through as they are (right size, rate and pixel format)."""
    import av

    settings = request.settings
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise RenderFailed("mux", f"{path.name} has no video stream", file=path.name)
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            rate = float(stream.average_rate or 0)
            pix_fmt = str(stream.codec_context.pix_fmt)
            frames = int(stream.frames or 0)  # 0: the container does not say
    except (av.error.FFmpegError, OSError) as exc:
        raise RenderFailed("mux", f"cannot read {path.name}: {_reason(exc)}",
                           file=path.name) from exc
    problems = []
    if (width, height) != (settings.width, settings.height):
        problems.append(f"{width}x{height} instead of {settings.width}x{settings.height}")
    if abs(rate - settings.fps) > 1e-3:
        problems.append(f"{rate:g} fps instead of {settings.fps}")
    if pix_fmt != "yuv420p" or settings.pix_fmt != "yuv420p":
        problems.append(f"{pix_fmt} instead of {settings.pix_fmt}")
    direct = not problems
    if frames and frames != request.frames:
        problems.append(f"{frames} frames instead of {request.frames}")
    return "; ".join(problems), direct


def _reason(exc: BaseException) -> str:
    """An error's reason without the file's path (PyAV puts it in its messages)."""
    return str(getattr(exc, "strerror", None) or type(exc).__name__)


def _direct_frames(path: Path, count: int) -> Iterator[bytes]:
    """``count`` decoded ``yuv420p`` frames of ``path`` as they are (the last held
    when the file is shorter, the rest left unread when it is longer)."""
    import av

    produced = 0
    last = b""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
                last = frame.to_ndarray().tobytes()  # yuv420p: the planes, no padding
                yield last
                produced += 1
                if produced >= count:
                    return
    except av.error.FFmpegError as exc:
        raise RenderFailed("mux", f"cannot decode {path.name}: {_reason(exc)}",
                           file=path.name) from exc
    if not last:
        raise RenderFailed("mux", f"{path.name} has no frames", file=path.name)
    for _ in range(count - produced):
        yield last


def _open_at(source: FrameSource, offset: int) -> tuple[Iterator[bytes], int]:
    """``source``'s frames from frame ``offset`` on, and how many frames to skip still:
    a source with ``open_at(offset)`` (Ken Burns: every frame is computed on its own)
    starts there; any other is opened at 0 and the first frames are skipped."""
    open_at = getattr(source, "open_at", None)
    if offset and callable(open_at):
        return iter(open_at(offset)), 0
    return iter(source.open()), offset


class _Scenes:
    """Opens scene sources in order, preparing the next one (up to ``last``) on a
    helper thread."""

    def __init__(self, sources: Sequence[FrameSource], size: int, last: int | None = None
                 ) -> None:
        self.sources = sources
        self.size = size
        self.last = len(sources) - 1 if last is None else last
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="videogen-prepare")
        self.ready: dict[int, Future[Any]] = {}
        self.open_iters: list[Iterator[bytes]] = []

    def _ahead(self, index: int) -> None:
        if index <= self.last and index not in self.ready:
            self.ready[index] = self.pool.submit(self.sources[index].prepare)

    def open(self, index: int, offset: int = 0) -> Iterator[bytes]:
        self._ahead(index)
        self.ready[index].result()  # raises the source's error (InvalidImage...)
        self._ahead(index + 1)
        frames, skip = _open_at(self.sources[index], offset)
        iterator = self._checked(index, frames, self.sources[index].frame_count - offset + skip)
        self.open_iters.append(iterator)
        for _ in range(skip):
            next(iterator)
        return iterator

    def _checked(self, index: int, frames: Iterator[bytes], expected: int) -> Iterator[bytes]:
        produced = 0
        try:
            for frame in frames:
                if len(frame) != self.size:
                    raise RenderFailed("render", f"scene {index + 1}: frame of {len(frame)} "
                                                 f"bytes, expected {self.size}")
                produced += 1
                yield frame
                if produced >= expected:
                    return
            raise RenderFailed("render", f"scene {index + 1} produced {produced} of "
                                         f"{expected} frames")
        finally:
            close = getattr(frames, "close", None)
            if close is not None:
                close()

    def close(self) -> None:
        for iterator in self.open_iters:
            with contextlib.suppress(Exception):
                iterator.close()  # type: ignore[attr-defined]
        for future in self.ready.values():
            future.cancel()
        self.pool.shutdown(wait=True)


def composed_frames(
    sources: Sequence[FrameSource],
    timeline: Timeline,
    settings: VideoSettings,
    *,
    start: int = 0,
    stop: int | None = None,
    cancel: CancelToken | None = None,
    progress: Callable[[float], None] | None = None,
) -> Iterator[bytes]:
    """Every frame of the video in order (see the module docstring), or only the
    output frames ``[start, stop)`` of it (one chunk: only the scenes it touches
    are opened, each at the frame the chunk needs first).

    Each source must yield exactly ``timeline.frame_counts(fps)[i]`` frames of
    :func:`frame_size` bytes; anything else is a RenderFailed naming the scene.
    """
    fps = settings.fps
    counts = timeline.frame_counts(fps)
    n = len(counts)
    if len(sources) != n:
        raise RenderFailed("mux", f"{len(sources)} clips for {n} scenes")
    for i, (source, count) in enumerate(zip(sources, counts, strict=True)):
        if source.frame_count != count:
            raise RenderFailed("mux", f"scene {i + 1} streams {source.frame_count} frames, "
                                      f"the timeline needs {count}")
    kind = timeline.transition if n > 1 else "none"
    overlap = timeline.overlap_frames(fps) if kind == "crossfade" else 0
    fade = timeline.fade_frames(fps) if kind == "fade" else 0
    total = timeline.total_frames(fps)
    stop = total if stop is None else stop
    if not 0 <= start < stop <= total:
        raise ValueError(f"frames [{start}, {stop}) are not within the video's {total}")
    starts = timeline.scene_starts_frames(fps)
    last = max(i for i in range(n) if starts[i] < stop)
    black = black_frame(settings) if fade else b""
    scenes = _Scenes(sources, frame_size(settings), last)
    opened: dict[int, Iterator[bytes]] = {}
    wanted = stop - start
    written = 0

    def emit(frame: bytes) -> bytes:
        nonlocal written
        if cancel is not None:
            cancel.raise_if_cancelled()
        written += 1
        if progress is not None:
            progress(written / wanted)
        return frame

    def take(i: int, f: int) -> bytes:
        if i not in opened:
            opened[i] = scenes.open(i, f - starts[i])
        return next(opened[i])

    def finish(i: int) -> None:
        iterator = opened.pop(i, None)
        if iterator is not None:
            with contextlib.suppress(StopIteration):
                next(iterator)  # lets the source's own checks finish (it is exhausted)

    try:
        i = 0
        while starts[i] + counts[i] <= start:
            i += 1
        for f in range(start, stop):
            while starts[i] + counts[i] <= f:
                finish(i)
                i += 1
            frame = take(i, f)
            if i + 1 < n and starts[i + 1] <= f:  # a crossfade overlap
                j = f - starts[i + 1]
                frame = blend(frame, take(i + 1, f), (j + 1) / (overlap + 1))
            elif fade:
                k = f - starts[i]
                if i > 0 and k < fade:
                    frame = blend(black, frame, k / fade)
                if i < n - 1 and k >= counts[i] - fade:
                    frame = blend(black, frame, (counts[i] - 1 - k) / fade)
            yield emit(frame)
        for k in list(opened):
            if starts[k] + counts[k] <= stop:
                finish(k)
    finally:
        scenes.close()
