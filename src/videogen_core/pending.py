"""A scene's clip as a frame source before the clip exists.

A generative renderer (ComfyUI) hands its clip files over one by one while its
servers work through the queue. :class:`PendingClip` lets the muxer start on the
video at once: it is the scene's :class:`~videogen_core.ports.FrameSource`, and
it waits for the scene's render (a future) only when the encoder first needs the
scene's frames — streamed, scene 1 is encoded while scenes 2..N are still being
generated; chunked, a chunk waits for the clips it holds. The wait stops when
``stop`` fires (the job cancelled, or another scene's render failed: the
pipeline then reports that failure, as when it gathered every clip first).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

from .errors import RenderFailed
from .model import VideoSettings
from .ports import FrameSource, RenderedClip
from .progress import CancelToken

__all__ = ["FileSourceFactory", "KeyedFallback", "PendingClip"]

#: ``(path, scene index, frames, settings) → (source, warning or "")``: how the muxer
#: decodes a clip file (``FfmpegMuxer.file_source``)
FileSourceFactory = Callable[[Path, int, int, VideoSettings], tuple[FrameSource, str]]


class KeyedFallback(RenderFailed):
    """A fallback's clip reached a chunk keyed for the scene's own renderer: the
    pipeline makes the video again with that scene's key blank (never cached)."""

    def __init__(self, index: int) -> None:
        super().__init__("mux", f"scene {index + 1} fell back; its chunks are not cached")
        self.index = index


class LateSource:
    """A frame source whose real one (:meth:`source`, made once) is known only when
    the muxer first prepares or opens it; ``prepare``/``open``/``open_at`` go to it."""

    def source(self) -> FrameSource:
        """The real frame source."""
        raise NotImplementedError

    def prepare(self) -> None:
        """Make the real source and prepare it."""
        self.source().prepare()

    def open(self) -> Iterator[bytes]:
        """The real source's frames."""
        return self.source().open()

    def open_at(self, start: int) -> Iterator[bytes]:
        """The real source's frames from ``start`` (skipped when it cannot seek)."""
        source = self.source()
        open_at = getattr(source, "open_at", None)
        if callable(open_at):
            return iter(open_at(start))
        return itertools.islice(source.open(), start, None)


class PendingClip(LateSource):
    """Scene ``index``'s frames from ``future`` (a :class:`RenderedClip`, decoded by
    ``file_source``, or a frame source), waited for when first prepared or opened."""

    def __init__(self, index: int, future: Future[Any], frame_count: int,
                 settings: VideoSettings, file_source: FileSourceFactory, stop: CancelToken,
                 *, keyed: bool = False, renders_file: bool = True) -> None:
        self.index = index
        self.future = future
        self._frames = frame_count
        self.settings = settings
        self.file_source = file_source
        self.stop = stop
        #: the scene's chunks are cached under its renderer's key: a fallback must not be
        self.keyed = keyed
        #: the scene's renderer makes a clip file (a generative renderer: a helper
        #: worker re-running the job would render it again), not a streamed source
        self.renders_file = renders_file
        #: the muxer's word on a clip file that did not fit ("" when it did)
        self.warning = ""
        #: its render fell back while the scene was keyed (KeyedFallback raised)
        self.fell_back = False
        self._source: FrameSource | None = None
        self._lock = threading.Lock()

    @property
    def frame_count(self) -> int:
        """The scene's frames on the timeline."""
        return self._frames

    @property
    def resolved(self) -> bool:
        """True once the muxer asked for the scene's frames."""
        return self._source is not None

    def _wait(self) -> Any:
        while True:
            self.stop.raise_if_cancelled()
            try:
                return self.future.result(timeout=0.1)
            except FutureTimeout:
                continue

    def source(self) -> FrameSource:
        """The scene's real frame source (waits for its render, once)."""
        with self._lock:
            if self._source is None:
                result = self._wait()
                if isinstance(result, RenderedClip):
                    if result.renderer and self.keyed:
                        self.fell_back = True
                        raise KeyedFallback(self.index)
                    source, self.warning = self.file_source(result.path, self.index,
                                                            self._frames, self.settings)
                else:
                    source = result
                self._source = source
            return self._source

