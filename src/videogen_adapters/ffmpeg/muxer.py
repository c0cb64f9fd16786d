"""The FFmpeg muxer: clips + transitions + soundtrack → one MP4, each frame encoded once.

There is one way to make the video. Every scene is a
:class:`~videogen_core.ports.FrameSource`: Ken Burns scenes stream their frames,
and a clip file (a generative renderer's) enters as a
:class:`~.stream.FileFrameSource` — decoded frame for frame when it already fits
(size, fps, ``yuv420p``), else decoded and fitted like
:func:`~videogen_adapters.ffmpeg.conform.conform_clip`, with a warning. The
video's frames, transitions blended in YUV by :func:`.stream.composed_frames`,
are encoded in **chunks** while the audio is mixed and measured on a thread; the
chunks are joined by the concat demuxer with ``-c copy`` in a final stream-copy
mux that adds the soundtrack, the caption track and the chapters
(``+faststart``).

* ``stream`` mode (the default) is the one-chunk case: the whole video through
  ONE x264 encoder on the calling thread.
* ``chunked`` mode (``plan.render_mode == "chunked"``) cuts the video at
  :meth:`~videogen_core.timeline.Timeline.chunk_bounds` (never inside a
  transition); a chunk whose :func:`chunk_key` is in the cache
  (:class:`~videogen_adapters.cache.DiskCache`) is not encoded again, nor is a
  soundtrack whose :func:`audio_key` is; the others are encoded as tasks on the
  executor. ``chunk_encodes``, ``chunk_hits`` and ``audio_mixes`` count what this
  muxer did; ``timings`` holds the last mux's seconds per step. With a chunk
  ``board`` the chunks not cached are shared with other workers (claimed,
  encoded or waited for: :mod:`videogen_adapters.chunkboard`); a helper's muxer
  encodes its share and raises ``HelperDone``.

Burnt-in captions are an ASS script in the plan's caption style (:mod:`.ass`),
drawn by libass with the bundled fonts (:mod:`videogen_adapters.fonts`, through
``FONTCONFIG_FILE``) during the chunk encodes; the soft track keeps the
sentence cues. The poster JPEG (:mod:`.poster`) is taken from the finished
file. The result is measured: duration and frames from the MP4 index, loudness
of the delivered AAC.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
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
from .encode import encode_frames
from .poster import write_poster
from .probe import index_facts
from .runner import FfmpegRunner, atomic_output
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


class FfmpegMuxer:
    """``Muxer`` on ffmpeg: every scene a frame source (clip files decoded), the
    video encoded in chunks (one in ``stream`` mode) joined by stream copy, the
    soundtrack mixed beside the encode (see the module docstring)."""

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
        #: seconds of the last mux's steps: ``video`` (every chunk made), ``audio_mix``
        #: (0 when the cache had it: absent), ``audio_wait`` (the encode waiting for the
        #: mix), ``join`` (the final stream-copy mux), ``total`` (benchmarks print them)
        self.timings: dict[str, float] = {}

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
            return self._mux_stream(plan, output_path, work, executor or InlineExecutor(),
                                    progress, cancel, pending)
        except BaseException:
            wait(pending)  # nothing may still write into the work directory
            raise
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _mux_stream(self, plan: MuxPlan, output_path: Path, work: Path, executor: Executor,
                    progress: Callable[[float], None] | None, cancel: CancelToken | None,
                    pending: list[Future[Any]]) -> MuxResult:
        """The one way to make the video (see the module docstring): the frames of every
        scene (clip files as :class:`~.stream.FileFrameSource`), transitions blended in
        YUV by :func:`.stream.composed_frames`, are encoded in chunks while the audio is
        mixed beside them, then joined and muxed by stream copy.

        ``stream`` mode is one chunk, the whole video, through ONE encoder on this
        thread; ``chunked`` mode cuts the video at ``Timeline.chunk_bounds``, takes
        every chunk whose key is in the cache and encodes the others as tasks on
        ``executor`` (each starts with an IDR frame: x264 always does)."""
        started = time.perf_counter()
        timeline, settings, fps = plan.timeline, plan.video, plan.video.fps
        counts = timeline.frame_counts(fps)
        sources: list[FrameSource] = []
        warnings: list[str] = []
        for i, clip in enumerate(plan.clips):
            if isinstance(clip, str | Path):
                source, warning = self.file_source(Path(clip), i, counts[i], settings)
                if warning:
                    warnings.append(warning)
                sources.append(source)
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
        timings: dict[str, float] = {}
        audio_job = _beside(pending, self._audio, plan, total_frames / fps, audio, work, stop,
                            timings)
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
        timings["video"] = time.perf_counter() - started
        loud = audio_job.result()
        joined = time.perf_counter()
        timings["audio_wait"] = joined - started - timings["video"]
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
        timings["join"] = time.perf_counter() - joined
        poster = self._poster(plan, output_path)
        timings["total"] = time.perf_counter() - started
        self.timings = timings
        return _result(output_path, duration, frames, loud, total_frames, warnings, progress,
                       poster)

    @staticmethod
    def file_source(path: Path, index: int, frame_count: int, settings: VideoSettings
                    ) -> tuple[FileFrameSource, str]:
        """Scene ``index``'s clip file as a frame source of ``frame_count`` frames, and
        the warning when the file does not fit (``""`` when it does). Reads the header
        only; an unreadable file is a RenderFailed here. The pipeline hands clips that
        are still being rendered in through this (``videogen_core.pending``)."""
        request = ClipRequest(path, frame_count / settings.fps, "", 0, settings=settings,
                              frame_count=frame_count)
        source = FileFrameSource(path, request)
        misfit = source.misfit()
        warning = (f"clip {index + 1} did not fit the timeline ({misfit}); "
                   "its frames were fitted") if misfit else ""
        return source, warning

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
        plan = _cores_shared(plan, side_by_side)
        # longest first: the short overlap chunks fill the gaps at the end, so no core
        # waits through a long last chunk (LPT order; the join keeps the video's order)
        todo.sort(key=lambda k: (bounds[k][0] - bounds[k][1], k))
        jobs = [executor.submit(self._encode_chunk, plan, sources, bounds[k], burn, files[k],
                                keys[k], stop, functools.partial(encoded, k)) for k in todo]
        pending += jobs
        _wait_all(jobs, stop)
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
                and not any(_renders_file(c) for c in plan.clips)):
            # (clip files would make a helper render generative clips again: not shared)
            part.recruit(len(todo) - 1)
        side_by_side = min(len(todo), max(1, int(getattr(executor, "workers", 1))))
        plan = _cores_shared(plan, side_by_side)
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
        _wait_all(jobs, stop)
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
                          settings, b - a, stage="encode",
                          progress=progress, cancel=stop, video_filter=video_filter,
                          faststart=False)
        with self._count_lock:
            self.chunk_encodes += 1
        if self.cache is not None and key:
            self.cache.link(self.cache.put(key, output), output)
        return output

    def _audio(self, plan: MuxPlan, duration: float, audio: Path, work: Path,
               cancel: CancelToken | None, timings: dict[str, float] | None = None
               ) -> Loudness:
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
        started = time.perf_counter()
        runner = self.audio_runner
        mix_audio(runner, plan.narrations, plan.music, duration, plan.audio, audio, work,
                  cancel=cancel)
        loud = measure_loudness(runner, audio, cancel)
        if timings is not None:
            timings["audio_mix"] = time.perf_counter() - started
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


#: Bumped when the way a chunk is encoded changes (cached chunks then miss).
#: 2: clip files enter decoded frame for frame when they fit (no RGB round trip).
CHUNK_FORMAT = 2


def chunk_key(plan: MuxPlan, start: int, stop: int, burnt: bool) -> str:
    """The cache key of the output frames ``[start, stop)``: a hash of everything that
    decides them — each scene's key (image bytes, camera, seed, renderer + version:
    ``plan.scene_keys``), which of its frames the chunk holds and the transitions
    touching them, the output settings and the encoder's tuning (``X264_PARAMS``), and
    the burnt-in captions the chunk shows.
    Where the chunk sits in the video does not count (unless captions are burnt in):
    a chunk moved by an edit elsewhere is still found. ``""`` (not cached) when a
    scene it touches has no key."""
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
            if not plan.scene_keys[i]:
                return ""  # a scene that must not be cached (e.g. a fallback's clip)
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


def _renders_file(clip: object) -> bool:
    """True for a generative scene: a clip file, or one still being rendered
    (:class:`~videogen_core.pending.PendingClip`)."""
    return isinstance(clip, str | Path) or bool(getattr(clip, "renders_file", False))


def _cores_shared(plan: MuxPlan, side_by_side: int) -> MuxPlan:
    """``plan`` for one of ``side_by_side`` encoders running at once: with automatic
    threads they get the cores shared out, not cores + 2 each (see
    ``commands.x264_args``); chunk keys keep the plan's own settings."""
    if side_by_side <= 1 or plan.video.threads != 0:
        return plan
    cores = os.cpu_count() or 1
    return attrs.evolve(plan, video=attrs.evolve(
        plan.video, threads=max(1, -(-cores // side_by_side))))


def _wait_all(jobs: list[Future[Any]], stop: CancelToken) -> None:
    """Wait for every job; the first failure stops the others (``stop``) and is raised
    (its siblings only saw Cancelled)."""
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
