"""The FFmpeg muxer: clips + transitions + soundtrack → one MP4, each frame encoded once.

**Streamed clips** (:class:`~videogen_core.ports.FrameSource`, the Ken Burns
default): every frame of the video, transitions blended in YUV by
:func:`.stream.composed_frames`, goes through ONE x264 encoder while the audio
is mixed and measured on a thread; a stream-copy mux then adds the soundtrack
and the caption track (``+faststart``). Burnt-in captions are drawn during
that single encode. Clip files in a streamed plan are decoded and fitted.

**Chunked** (``plan.render_mode == "chunked"``, any clips): the same composed
frames cut at :meth:`~videogen_core.timeline.Timeline.chunk_bounds` (never inside
a transition), each chunk one encode of that very code (stream mode is the
one-chunk case), run as tasks on the executor; a chunk whose :func:`chunk_key`
is in the cache (:class:`~videogen_adapters.cache.DiskCache`) is not encoded
again, nor is a soundtrack whose :func:`audio_key` is. The chunks are joined by
the concat demuxer with ``-c copy`` in the final mux. ``chunk_encodes``,
``chunk_hits`` and ``audio_mixes`` count what this muxer did. With a chunk
``board`` the chunks not cached are shared with other workers (claimed,
encoded or waited for: :mod:`videogen_adapters.chunkboard`); a helper's muxer
encodes its share and raises ``HelperDone``.

**Clip files** (generative renderers): clips arrive encoded with the final
settings and an IDR frame at every cut frame of the
:class:`~videogen_core.timeline.Timeline`. The muxer

1. splits each clip by stream copy at its cut frames (in process, PyAV) into
   head (incoming transition), body and tail (outgoing transition);
2. renders only the transitions — ``crossfade``: xfade of tail *i* with head
   *i+1* (the overlap); ``fade``: tail *i* faded out to black, then head *i+1*
   faded in — encoded with the same settings; consecutive transitions share one
   encode (batches of up to :data:`BATCH`, IDR at each start, split by stream
   copy) and the batches run in parallel through the executor, while the audio
   mix (:mod:`.audio`) runs on its own thread;
3. joins body, transition, body, … with the concat demuxer and ``-c copy``,
   adds the soundtrack (copied) and a mov_text caption track, ``+faststart``;
   burning captions in (libass) is the one case that re-encodes the video.

A clip that does not fit (wrong frame count/size/fps, no key frame at a cut)
is first re-encoded to fit with :func:`~videogen_adapters.ffmpeg.conform.conform_clip`
and a warning says so. The result is measured: duration, frames, loudness.

Burnt-in captions are an ASS script in the plan's caption style
(:mod:`.ass`), drawn by libass with the bundled fonts (:mod:`videogen_adapters.fonts`,
through ``FONTCONFIG_FILE``); the soft track keeps the sentence cues. The
plan's chapters go in at the final mux (an FFMETADATA file, ``-map_chapters``),
and the poster JPEG (:mod:`.poster`) is taken from the finished file.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import itertools
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, TypeVar, cast

import attrs

from videogen_core.captions import format_srt
from videogen_core.errors import Cancelled, RenderFailed
from videogen_core.model import VideoSettings
from videogen_core.ports import (
    STREAM_ENCODE_SHARE,
    ClipRequest,
    Executor,
    FrameSource,
    MuxPlan,
    MuxResult,
)
from videogen_core.progress import CancelToken

from ..cache import DiskCache
from ..chunkboard import DEFAULT_LEASE, ChunkBoard, HelperDone
from ..executors.threads import InlineExecutor
from ..fonts import CAPTION_FONT, ffmpeg_env
from . import commands
from .ass import ass_document
from .audio import Loudness, measure_loudness, mix_audio
from .conform import conform_clip
from .encode import encode_frames
from .poster import write_poster
from .probe import index_facts, probe
from .runner import FfmpegRunner, atomic_output
from .split import read_layout, write_pieces
from .stream import FileFrameSource, composed_frames

__all__ = ["CHUNK_FORMAT", "FfmpegMuxer", "audio_key", "chunk_key", "find_fonts_dir"]

T = TypeVar("T")

_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts", "/usr/local/share/fonts",
              "/Library/Fonts", "C:/Windows/Fonts")


def find_fonts_dir() -> Path | None:
    """A directory with TrueType fonts for burnt-in captions, if the system has one."""
    for candidate in _FONT_DIRS:
        path = Path(candidate)
        if path.is_dir() and any(path.rglob("*.ttf")):
            return path
    return None


#: At most this many transitions share one encode. Sharing saves an x264 start-up
#: per transition but the concat filter buffers every later input's frames (about
#: 23 MB per extra transition at 1024x576), so the default keeps memory flat: 1.
BATCH = 1


def _batches(count: int, workers: int) -> list[tuple[int, int]]:
    """Split ``count`` transitions into contiguous batches: at least one per worker
    (parallelism), at most ``BATCH`` each (bounded memory)."""
    if count <= 0:
        return []
    parts = min(count, max(workers, -(-count // BATCH)))
    edges = [round(k * count / parts) for k in range(parts + 1)]
    return [(a, b) for a, b in itertools.pairwise(edges) if b > a]


class FfmpegMuxer:
    """``Muxer`` on ffmpeg: stream-copy joins, transitions rendered alone, mixed audio;
    or, for clips given as frame sources, the whole video through one encoder."""

    #: takes :class:`~videogen_core.ports.FrameSource` clips (the pipeline streams then)
    accepts_frame_sources = True
    #: makes ``render_mode="chunked"`` plans in chunks (``Timeline.chunk_bounds``)
    renders_chunks = True

    def __init__(self, *, runner: FfmpegRunner | None = None, fonts_dir: Path | None = None,
                 workdir: Path | None = None, audio_nice: int = 10,
                 cache: DiskCache | None = None, board: ChunkBoard | None = None,
                 chunk_lease: float = DEFAULT_LEASE) -> None:
        self.runner = runner or FfmpegRunner()
        #: where chunked mode keeps encoded chunks by key (None: not kept)
        self.cache = cache
        #: chunked mode with a cache: chunks shared with other workers through claims
        #: on this board (:mod:`videogen_adapters.chunkboard`; None: encoded here alone)
        self.board = board
        self.chunk_lease = chunk_lease
        #: chunks encoded / taken from the cache by this muxer (all jobs, all modes)
        self.chunk_encodes = 0
        self.chunk_hits = 0
        #: soundtracks mixed by this muxer (a chunked re-run takes an unchanged one
        #: from the cache)
        self.audio_mixes = 0
        self._count_lock = threading.Lock()
        #: CPU niceness added to the audio mix's ffmpeg runs (0: same as the video).
        #: Measured on the reference job: 5 of 6 paired runs faster, ~3 % on average.
        self.audio_nice = audio_nice
        self.fonts_dir = fonts_dir
        self.workdir = workdir

    def mux(
        self,
        plan: MuxPlan,
        output_path: Path,
        *,
        executor: Executor | None = None,
        progress: Callable[[float], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> MuxResult:
        """Write the final video atomically and return its measured facts."""
        timeline = plan.timeline
        if len(plan.clips) != len(timeline.durations):
            raise RenderFailed("mux", f"{len(plan.clips)} clips for "
                                      f"{len(timeline.durations)} scenes")
        if _helping() and not (plan.render_mode == "chunked" and plan.scene_keys
                               and self.board is not None and self.cache is not None):
            raise HelperDone(0)  # nothing to share: a helper never makes the video
        output_path = Path(output_path)
        output_path.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".mux-", dir=self.workdir or output_path.parent))
        pending: list[Future[Any]] = []
        try:
            if plan.render_mode == "chunked" or any(not isinstance(c, str | Path)
                                                    for c in plan.clips):
                return self._mux_stream(plan, output_path, work, executor or InlineExecutor(),
                                        progress, cancel, pending)
            return self._mux(plan, output_path, work, executor or InlineExecutor(), progress,
                             cancel, pending)
        except BaseException:
            wait(pending)  # nothing may still write into the work directory
            raise
        finally:
            shutil.rmtree(work, ignore_errors=True)

    # ------------------------------------------------------- streamed clips
    def _mux_stream(self, plan: MuxPlan, output_path: Path, work: Path, executor: Executor,
                    progress: Callable[[float], None] | None, cancel: CancelToken | None,
                    pending: list[Future[Any]]) -> MuxResult:
        """Clips given as frame sources (or, chunked, any clips): the video's frames
        (transitions blended in YUV by :func:`.stream.composed_frames`) are encoded
        while the audio is mixed beside them, then joined and muxed by stream copy.

        ``stream`` mode is one chunk, the whole video, through ONE encoder on this
        thread; ``chunked`` mode cuts the video at ``Timeline.chunk_bounds``, takes
        every chunk whose key is in the cache and encodes the others as tasks on
        ``executor`` (each starts with an IDR frame: x264 always does)."""
        timeline, settings, fps = plan.timeline, plan.video, plan.video.fps
        counts = timeline.frame_counts(fps)
        sources: list[FrameSource] = []
        for i, clip in enumerate(plan.clips):
            if isinstance(clip, str | Path):
                request = ClipRequest(Path(clip), counts[i] / fps, "", 0, settings=settings,
                                      frame_count=counts[i])
                sources.append(FileFrameSource(Path(clip), request))
            else:
                sources.append(clip)
        total_frames = timeline.total_frames(fps)
        chunked = plan.render_mode == "chunked"
        bounds = timeline.chunk_bounds(fps) if chunked else ((0, total_frames),)
        # one token stops both halves: the caller's cancel, a failed mix (no point
        # encoding on) or a failed encode (no point mixing on)
        stop = CancelToken()
        if cancel is not None:
            cancel.on_cancel(stop.cancel)
        if _helping():  # a helper encodes shared chunks, nothing else (see mux)
            _, burn = self._captions(plan, work)
            self._chunks(plan, sources, bounds, burn, work, executor, stop,
                         lambda k, f: None, pending)
            raise HelperDone(0)  # every chunk was in the cache already
        audio = work / "audio.m4a"
        audio_job = _beside(pending, self._audio, plan, total_frames / fps, audio, work, stop)
        audio_job.add_done_callback(lambda job: stop.cancel() if _failed(job) else None)
        subtitles, burn = self._captions(plan, work)
        chapters = self._chapters(plan, work)
        done = [0] * len(bounds)
        lock = threading.Lock()

        def encoded(index: int, fraction: float) -> None:
            with lock:  # chunks report from several threads: in order, never backwards
                done[index] = round(fraction * (bounds[index][1] - bounds[index][0]))
                if progress is not None:
                    progress(STREAM_ENCODE_SHARE * min(1.0, sum(done) / total_frames))

        try:
            pieces = self._chunks(plan, sources, bounds, burn, work, executor, stop, encoded,
                                  pending)
        except Cancelled:
            mix_error = audio_job.exception() if _failed(audio_job) else None
            if mix_error is not None and not (cancel is not None and cancel.cancelled):
                raise mix_error from None  # the mix failed first: that is the reason
            raise
        except BaseException:
            stop.cancel()
            raise
        loud = audio_job.result()
        with atomic_output(output_path) as tmp:
            if len(pieces) == 1:
                argv = commands.mux_args(self.runner.ffmpeg, pieces[0], tmp, audio=audio,
                                         subtitles=subtitles, chapters=chapters)
            else:
                list_file = work / "chunks.ffconcat"
                list_file.write_text(commands.concat_list_text(pieces), encoding="utf-8")
                argv = commands.concat_mux_args(self.runner.ffmpeg, list_file, tmp,
                                                audio=audio, subtitles=subtitles,
                                                chapters=chapters)
            self.runner.run(argv, stage="mux", cancel=cancel)
            duration, frames = index_facts(tmp)  # from the MP4 index: no packet reading
        poster = self._poster(plan, output_path)
        return _result(output_path, duration, frames, loud, total_frames, [], progress, poster)

    def _chunks(self, plan: MuxPlan, sources: list[FrameSource],
                bounds: tuple[tuple[int, int], ...], burn: str | None, work: Path,
                executor: Executor, stop: CancelToken,
                encoded: Callable[[int, float], None], pending: list[Future[Any]]
                ) -> list[Path]:
        """The encoded file of every chunk, in order: from the cache where its key is
        there, else encoded (the only chunk of a streamed mux on this thread, chunks
        of a chunked mux as executor tasks)."""
        files = [work / f"chunk_{k:05d}.mp4" for k in range(len(bounds))]
        keys: list[str | None] = [None] * len(bounds)
        if self.cache is not None and plan.render_mode == "chunked" and plan.scene_keys:
            keys = [chunk_key(plan, a, b, burn is not None) for a, b in bounds]
        todo = []
        for k, key in enumerate(keys):
            cached = self.cache.get(key) if self.cache is not None and key else None
            if cached is not None:
                self.cache.link(cached, files[k])  # type: ignore[union-attr]
                with self._count_lock:
                    self.chunk_hits += 1
                encoded(k, 1.0)
            else:
                todo.append(k)
        if todo and self.board is not None and all(keys):
            return self._shared_chunks(plan, sources, bounds, burn, files,
                                       cast(list[str], keys), todo, executor, stop, encoded,
                                       pending)
        if len(bounds) == 1 and todo:
            self._encode_chunk(plan, sources, bounds[0], burn, files[0], keys[0], stop,
                               lambda f: encoded(0, f))
            return files
        side_by_side = min(len(todo), max(1, int(getattr(executor, "workers", 1))))
        if side_by_side > 1 and plan.video.threads == 0:
            # encoders running side by side get the cores shared out, not cores + 2 each
            # (see commands.x264_args); the keys keep the plan's settings
            cores = os.cpu_count() or 1
            plan = attrs.evolve(plan, video=attrs.evolve(
                plan.video, threads=max(1, -(-cores // side_by_side))))
        jobs = [executor.submit(self._encode_chunk, plan, sources, bounds[k], burn, files[k],
                                keys[k], stop, functools.partial(encoded, k)) for k in todo]
        pending += jobs
        try:
            wait(jobs, return_when=FIRST_EXCEPTION)  # the first failure stops the others
            failed = next((job for job in jobs if _failed(job)), None)
            if failed is not None:
                stop.cancel()
                wait(jobs)
                failed.result()  # raises the first failure (siblings only saw Cancelled)
            for job in jobs:
                job.result()
        except BaseException:
            stop.cancel()
            raise
        return files

    def _shared_chunks(self, plan: MuxPlan, sources: list[FrameSource],
                       bounds: tuple[tuple[int, int], ...], burn: str | None,
                       files: list[Path], keys: list[str], todo: list[int],
                       executor: Executor, stop: CancelToken,
                       encoded: Callable[[int, float], None], pending: list[Future[Any]]
                       ) -> list[Path]:
        """The chunks ``todo`` (not cached) made with whoever shares :attr:`board`: a
        :class:`~videogen_adapters.chunkboard.ChunkCrew` per encoder slot claims,
        encodes or waits for each (see :mod:`videogen_adapters.chunkboard`). The job's
        owner on a Celery worker first recruits helpers for the chunks beyond one.
        A helper's crew returns once nothing is left unclaimed."""
        from ..chunkboard import ChunkCrew, current_participation, local_worker_name

        board = cast(ChunkBoard, self.board)
        cache = cast(DiskCache, self.cache)
        part = current_participation()
        helper = part is not None and part.helper
        if (part is not None and not helper and part.recruit is not None and len(todo) > 1
                and all(not isinstance(c, str | Path) for c in plan.clips)):
            # (clip files would make a helper render generative clips again: not shared)
            part.recruit(len(todo) - 1)
        side_by_side = min(len(todo), max(1, int(getattr(executor, "workers", 1))))
        if side_by_side > 1 and plan.video.threads == 0:
            cores = os.cpu_count() or 1  # as in _chunks: the cores shared out
            plan = attrs.evolve(plan, video=attrs.evolve(
                plan.video, threads=max(1, -(-cores // side_by_side))))
        sub = [keys[k] for k in todo]

        def take(j: int) -> bool:
            k = todo[j]
            cached = cache.get(keys[k])
            if cached is None:
                return False
            cache.link(cached, files[k])
            with self._count_lock:
                self.chunk_hits += 1
            encoded(k, 1.0)
            return True

        def encode(j: int) -> None:
            k = todo[j]
            self._encode_chunk(plan, sources, bounds[k], burn, files[k], keys[k], stop,
                               functools.partial(encoded, k))

        crew = ChunkCrew(board, sub, take=take, encode=encode, stop=stop,
                         job=part.job if part is not None else "",
                         worker=part.worker if part is not None else local_worker_name(),
                         helper=helper, lease=self.chunk_lease)
        jobs = [executor.submit(crew.work) for _ in range(side_by_side)]
        pending += jobs
        try:
            wait(jobs, return_when=FIRST_EXCEPTION)
            failed = next((job for job in jobs if _failed(job)), None)
            if failed is not None:
                stop.cancel()
                wait(jobs)
                failed.result()
            for job in jobs:
                job.result()
        except BaseException:
            stop.cancel()
            raise
        if helper:
            raise HelperDone(len(crew.encoded))
        return files

    def _encode_chunk(self, plan: MuxPlan, sources: list[FrameSource],
                      bound: tuple[int, int], burn: str | None, output: Path,
                      key: str | None, stop: CancelToken,
                      progress: Callable[[float], None]) -> Path:
        """Encode the output frames ``[a, b)`` to ``output`` with the final settings
        (burnt-in captions shifted to the chunk's place in the video); into the cache
        under ``key`` when there is one."""
        stop.raise_if_cancelled()
        a, b = bound
        settings, fps = plan.video, plan.video.fps
        video_filter = burn
        if burn is not None and a > 0:
            # the chunk's frames start at 0: the captions see the video's clock
            video_filter = f"setpts=PTS+{a}/({fps}*TB),{burn},setpts=PTS-STARTPTS"
        frames = composed_frames(sources, plan.timeline, settings, start=a, stop=b,
                                 cancel=stop)
        with contextlib.closing(frames):  # stopped between frames: its sources close now
            encode_frames(self.burn_runner if burn else self.runner, frames, output,
                          settings, b - a, fast_transitions=False, stage="encode",
                          progress=progress, cancel=stop, video_filter=video_filter,
                          faststart=False)
        with self._count_lock:
            self.chunk_encodes += 1
        if self.cache is not None and key:
            self.cache.link(self.cache.put(key, output), output)
        return output

    def _audio(self, plan: MuxPlan, duration: float, audio: Path, work: Path,
               cancel: CancelToken | None) -> Loudness:
        """Mix the soundtrack to ``audio`` and measure the delivered AAC (the final
        file copies this very stream). Chunked, the mix and its loudness are cached
        under :func:`audio_key`: an unchanged soundtrack is not mixed again."""
        import av  # noqa: F401 - loaded here, beside the encode, not after it (index_facts)

        key = (audio_key(plan, duration) if self.cache is not None
               and plan.render_mode == "chunked" else None)
        if key is not None and self.cache is not None:
            cached, facts = self.cache.get(key, ".m4a"), self.cache.get(key, ".json")
            if cached is not None and facts is not None:
                with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
                    loud = Loudness(**json.loads(facts.read_text(encoding="utf-8")))
                    self.cache.link(cached, audio)
                    return loud
        runner = self.audio_runner
        mix_audio(runner, plan.narrations, plan.music, duration, plan.audio, audio, work,
                  cancel=cancel)
        loud = measure_loudness(runner, audio, cancel)
        with self._count_lock:
            self.audio_mixes += 1
        if key is not None and self.cache is not None:
            facts_file = work / "audio.json"
            facts_file.write_text(json.dumps(attrs.asdict(loud)), encoding="utf-8")
            self.cache.put(key, facts_file, ".json")
            self.cache.link(self.cache.put(key, audio, ".m4a"), audio)
        return loud

    @property
    def audio_runner(self) -> FfmpegRunner:
        """The runner for the audio mix: ``audio_nice`` steps nicer than the video's,
        so the mix takes the cores the encoder leaves idle instead of slowing it
        (it has the whole encode's time to finish)."""
        if not self.audio_nice:
            return self.runner
        runner = copy.copy(self.runner)
        runner.nice = self.runner.nice + self.audio_nice
        return runner

    def _captions(self, plan: MuxPlan, work: Path) -> tuple[Path | None, str | None]:
        """The soft caption file (sentences) and the burn-in filter the plan asks for
        (an ASS script in the plan's caption style, see :mod:`.ass`)."""
        subtitles = None
        burn = None
        if plan.cues and plan.soft_subtitles:
            subtitles = work / "captions.srt"
            subtitles.write_text(format_srt(plan.cues), encoding="utf-8")
        if plan.cues and plan.burn_subtitles and plan.caption_style != "none":
            bundled = self.burn_runner.env is not None
            ass = work / "captions.ass"
            ass.write_text(ass_document(plan.cues, plan.caption_style, plan.video.width,
                                        plan.video.height,
                                        font=CAPTION_FONT if bundled else "DejaVu Sans"),
                           encoding="utf-8")
            burn = commands.ass_filter(ass, self.fonts_dir or (None if bundled
                                                               else find_fonts_dir()))
        return subtitles, burn

    @property
    def burn_runner(self) -> FfmpegRunner:
        """The runner for an encode that burns captions in: its ffmpeg finds the
        bundled fonts (:mod:`videogen_adapters.fonts`) through fontconfig, so no
        system font is needed (the runner as it is when no font package is there)."""
        env = ffmpeg_env(self.workdir / ".fonts" if self.workdir else None)
        if env is None:
            return self.runner
        runner = copy.copy(self.runner)
        runner.env = env
        return runner

    @staticmethod
    def _chapters(plan: MuxPlan, work: Path) -> Path | None:
        """The FFMETADATA file of the plan's chapters (None without chapters)."""
        if not plan.chapters:
            return None
        path = work / "chapters.ffmeta"
        path.write_text(commands.ffmetadata_text([(c.start, c.end, c.title)
                                                  for c in plan.chapters]), encoding="utf-8")
        return path

    def _poster(self, plan: MuxPlan, video: Path) -> Path | None:
        """The poster JPEG beside ``video`` when the plan asks for one."""
        if plan.poster is None:
            return None
        start, end = plan.poster
        busy = [(c.start, c.end) for c in plan.cues] if plan.burn_subtitles else []
        return write_poster(video, video.with_suffix(".jpg"), start, end, avoid=busy)

    # ----------------------------------------------------------------- steps
    def _mux(self, plan: MuxPlan, output_path: Path, work: Path, executor: Executor,
             progress: Callable[[float], None] | None, cancel: CancelToken | None,
             pending: list[Future[Any]]) -> MuxResult:
        timeline, settings, fps = plan.timeline, plan.video, plan.video.fps
        n = len(plan.clips)
        counts = timeline.frame_counts(fps)
        kind = timeline.transition if n > 1 else "none"
        edge = (timeline.overlap_frames(fps) if kind == "crossfade"
                else timeline.fade_frames(fps) if kind == "fade" else 0)
        steps = n + 3 + len(_batches(n - 1 if kind != "none" and edge > 0 else 0,
                                     max(1, int(getattr(executor, "workers", 2)))))
        done = 0
        warnings: list[str] = []

        def tick() -> None:
            nonlocal done
            done += 1
            if cancel is not None:
                cancel.raise_if_cancelled()
            if progress is not None:
                progress(min(1.0, done / steps))

        audio = work / "audio.m4a"
        audio_job = _beside(pending, mix_audio, self.audio_runner, plan.narrations, plan.music,
                            timeline.total_frames(fps) / fps, plan.audio, audio, work,
                            cancel=cancel)
        split_jobs = [executor.submit(self._split, i, Path(cast(Path, clip)), counts[i],
                                      timeline.cut_frames(i, fps), plan, work, cancel)
                      for i, clip in enumerate(plan.clips)]  # all files on this path
        pending += split_jobs
        parts: list[dict[tuple[int, int], Path]] = []
        for job in split_jobs:
            pieces, warning = job.result()
            parts.append(pieces)
            if warning:
                warnings.append(warning)
            tick()
        heads, bodies, tails = [], [], []
        for i in range(n):
            head = (0, edge) if kind != "none" and i > 0 and edge > 0 else None
            tail = (counts[i] - edge, counts[i]) if kind != "none" and i < n - 1 and \
                edge > 0 else None
            start = head[1] if head else 0
            end = tail[0] if tail else counts[i]
            if end < start:
                raise RenderFailed("mux", f"clip {i + 1} ({counts[i]} frames) is too short "
                                          f"for its transitions ({edge} frames each)")
            heads.append(parts[i][head] if head else None)
            tails.append(parts[i][tail] if tail else None)
            bodies.append(parts[i][(start, end)] if end > start else None)
        pairs = [(kind, tails[i], heads[i + 1]) for i in range(n - 1)]
        if kind == "none" or edge <= 0:
            pairs = []
        workers = max(1, int(getattr(executor, "workers", 2)))
        batches = _batches(len(pairs), workers)
        batch_jobs = [executor.submit(self._transitions, pairs[a:b], a, edge, settings, work,
                                      cancel) for a, b in batches]
        pending += batch_jobs
        rendered: list[Path] = []
        for batch in batch_jobs:
            rendered += batch.result()
            tick()
        sequence: list[Path] = []
        for i in range(n):
            if bodies[i] is not None:
                sequence.append(bodies[i])
            if i < len(rendered):
                sequence.append(rendered[i])
        audio_job.result()
        tick()
        list_file = work / "segments.ffconcat"
        list_file.write_text(commands.concat_list_text(sequence), encoding="utf-8")
        subtitles, burn = self._captions(plan, work)
        with atomic_output(output_path) as tmp:
            argv = commands.concat_mux_args(self.runner.ffmpeg, list_file, tmp, audio=audio,
                                            subtitles=subtitles, burn_filter=burn,
                                            settings=settings,
                                            chapters=self._chapters(plan, work))
            (self.burn_runner if burn else self.runner).run(argv, stage="mux", cancel=cancel)
            info = probe(tmp)
            loud = measure_loudness(self.runner, tmp, cancel)
        poster = self._poster(plan, output_path)
        tick()
        return _result(output_path, info.duration, info.frames, loud, timeline.total_frames(fps),
                       warnings, progress, poster)

    def _transitions(self, pairs: list[tuple[str, Path | None, Path | None]], first: int,
                     frames: int, settings: VideoSettings, work: Path,
                     cancel: CancelToken | None) -> list[Path]:
        """Render a batch of transitions in one encode and split it into one file each."""
        out = work / f"transitions_{first:05d}.mp4"
        argv, counts = commands.transitions_args(self.runner.ffmpeg, pairs, frames, settings,
                                                 out)
        self.runner.run(argv, stage="transition", cancel=cancel)
        files = [work / f"transition_{first + k:05d}.mp4" for k in range(len(pairs))]
        cuts = [sum(counts[:k]) for k in range(1, len(counts))]
        got = write_pieces(out, cuts, files)
        if got != counts:
            raise RenderFailed("transition", f"transition pieces of {got} frames, expected "
                                             f"{counts}")
        out.unlink()
        return files

    def _split(self, index: int, clip: Path, frames: int, cuts: tuple[int, ...], plan: MuxPlan,
               work: Path, cancel: CancelToken | None,
               ) -> tuple[dict[tuple[int, int], Path], str | None]:
        """Split clip ``index`` at ``cuts`` (re-encoding it first if it does not fit);
        returns ``{(start, end): file}``."""
        if cancel is not None:
            cancel.raise_if_cancelled()
        settings = plan.video
        warning = None
        layout = read_layout(clip, frames, cuts, settings)
        if not layout.fits:
            fixed = work / f"conformed_{index:05d}.mp4"
            request = ClipRequest(clip, frames / settings.fps, "", 0, settings=settings,
                                  cut_frames=cuts, frame_count=frames)
            conform_clip(clip, request, fixed, cancel=cancel, runner=self.runner)
            warning = (f"clip {index + 1} did not fit the timeline ({layout.reason}); "
                       "it was re-encoded to fit")
            clip = fixed
        bounds = [0, *sorted(set(cuts)), frames]
        outputs = [work / f"clip_{index:05d}_{j}.mp4" for j in range(len(bounds) - 1)]
        counts = write_pieces(clip, cuts, outputs)
        pieces: dict[tuple[int, int], Path] = {}
        for j, path in enumerate(outputs):
            if counts[j] != bounds[j + 1] - bounds[j]:
                raise RenderFailed("split", f"clip {index + 1}: piece {j} has {counts[j]} "
                                            f"frames, expected {bounds[j + 1] - bounds[j]}")
            pieces[(bounds[j], bounds[j + 1])] = path
        return pieces, warning


#: Bumped when the way a chunk is encoded changes (cached chunks then miss).
CHUNK_FORMAT = 1


def chunk_key(plan: MuxPlan, start: int, stop: int, burnt: bool) -> str:
    """The cache key of the output frames ``[start, stop)``: a hash of everything that
    decides them — each scene's key (image bytes, camera, seed, renderer + version:
    ``plan.scene_keys``), which of its frames the chunk holds and the transitions
    touching them, the output settings and the encoder's tuning (``X264_PARAMS``), and
    the burnt-in captions the chunk shows.
    Where the chunk sits in the video does not count (unless captions are burnt in):
    a chunk moved by an edit elsewhere is still found."""
    timeline, settings, fps = plan.timeline, plan.video, plan.video.fps
    counts = timeline.frame_counts(fps)
    starts = timeline.scene_starts_frames(fps)
    n = len(counts)
    kind = timeline.transition if n > 1 else "none"
    parts: list[Any] = [CHUNK_FORMAT, attrs.asdict(settings), commands.X264_PARAMS, kind,
                        timeline.overlap_frames(fps) if kind == "crossfade" else 0,
                        timeline.fade_frames(fps) if kind == "fade" else 0, stop - start]
    for i in range(n):
        lo, hi = max(start, starts[i]), min(stop, starts[i] + counts[i])
        if lo < hi:
            parts.append((plan.scene_keys[i], counts[i], lo - starts[i], hi - starts[i],
                          i > 0, i < n - 1))
    if burnt:
        t0, t1 = start / fps, stop / fps
        # (a caption stays up across a short gap: cues ending just before count too)
        shown = [c for c in plan.cues if c.end + 1.0 > t0 and c.start < t1]
        parts += [start, plan.caption_style, repr(shown)]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:40]


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def audio_key(plan: MuxPlan, duration: float) -> str:
    """The cache key of the mixed soundtrack: the bytes and places of every narration
    and music bed, the mix settings and the video's length."""
    parts: list[Any] = ["audio", CHUNK_FORMAT, attrs.asdict(plan.audio), round(duration, 6)]
    parts += [(_file_digest(n.path), n.start, n.duration) for n in plan.narrations]
    parts += [(_file_digest(m.path), m.start, m.end, m.mood) for m in plan.music]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:40]


def _helping() -> bool:
    """True when this thread runs a helper's copy of a job (see :mod:`..chunkboard`)."""
    from ..chunkboard import current_participation

    part = current_participation()
    return part is not None and part.helper


def _failed(job: Future[Any]) -> bool:
    """True when ``job`` finished by raising (not by being cancelled)."""
    return job.done() and not job.cancelled() and job.exception() is not None


def _beside(pending: list[Future[Any]], fn: Callable[..., T], *args: Any,
            **kwargs: Any) -> Future[T]:
    """Run ``fn(*args, **kwargs)`` on a thread of its own (the audio mix: the executor's workers
    go to the video); the future joins ``pending``, which the muxer waits for."""
    pool = ThreadPoolExecutor(1, thread_name_prefix="videogen-mix")
    job = pool.submit(fn, *args, **kwargs)
    pool.shutdown(wait=False)
    pending.append(job)
    return job


def _result(output_path: Path, duration: float, frames: int, loud: Loudness, expected: int,
            warnings: list[str], progress: Callable[[float], None] | None,
            poster: Path | None = None) -> MuxResult:
    """The measured facts of the finished file (a frame-count mismatch is a warning)."""
    if frames != expected:
        warnings.append(f"the video has {frames} frames, the timeline {expected}")
    if progress is not None:
        progress(1.0)
    return MuxResult(output_path, round(duration, 3), frames,
                     round(loud.integrated, 2), round(loud.true_peak, 2), tuple(warnings),
                     poster)
