"""The use case: one folder of images + one sequence → one stored video.

::

    validate → fetch images → narrate (parallel) → fit narration → Timeline
             → render clips ∥ compose music beds (parallel) → mux → store → VideoResult

When the renderer can stream (Ken Burns) and the muxer takes frame sources,
"render clips" only checks the images and the muxer makes and encodes every
frame in one encoder (the render progress is that encode's).

The render mode (``render_mode``: ``stream`` | ``chunked`` | ``auto``) says how
the muxer makes the video: ``stream``, one encoder for the whole video;
``chunked``, the timeline cut into chunks (``Timeline.chunk_bounds``) encoded
apart, reused from the muxer's cache by a key built from each scene's key (a
hash of its image bytes, request and renderer); ``auto`` picks ``chunked`` for
jobs longer than ``chunked_above`` seconds and where ``prefer_chunks`` (Celery
workers: a re-delivered job resumes from its chunks), ``stream`` otherwise. The
result says which (``VideoResult.render_mode``).

Each scene may name its renderer (``Scene.renderer``: ``auto`` is the injected
``renderer``, others come from ``renderers`` by name), so Ken Burns scenes
(streamed) and generative ones (clip files) share one video; the scene reports
say which renderer made each scene (a fallback's name when one stood in).

Clip files do not hold the mux back: when the muxer can decode a clip file as
a frame source (``file_source``), every generative scene enters the plan as a
:class:`~videogen_core.pending.PendingClip` that waits for its render when the
encoder first needs its frames, so the encode overlaps the generation of later
clips. The renders are reported as they finish, the mux's share after the last
one; a failed render stops the mux and is raised as it would have been before.

Every stage reports progress through one sink; cancellation is checked
between steps and handed to adapters (the narrator and music source check it
between pieces); narration is seeded per scene from the job seed; a run submits
its work through its own lane when the executor offers lanes (fair sharing);
the working directory is always removed, also on failure; nothing is stored
unless the whole video is done (subtitles first, the video last, subtitles
removed again if the video fails).
"""

from __future__ import annotations

import functools
import logging
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, wait
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import attrs

from .captions import chapter_title, format_srt, format_vtt, format_words_json, timed_words
from .errors import Cancelled, InvalidImage, InvalidRequest, RenderFailed, VideogenError
from .images import explain_match, match_images
from .model import (
    AnimationSettings,
    AudioSettings,
    Scene,
    Sequence,
    VideoSettings,
    derive_seed,
    transition_length,
    validate_sequence,
)
from .motion import limit_clip_action
from .pending import LateSource, PendingClip
from .ports import (
    STREAM_ENCODE_SHARE,
    Chapter,
    ClipRenderer,
    ClipRequest,
    Cue,
    Executor,
    FrameSource,
    MusicPlacement,
    MusicSource,
    Muxer,
    MuxPlan,
    MuxResult,
    Narration,
    NarrationPlacement,
    Narrator,
    RenderedClip,
    Storage,
    StreamingClipRenderer,
)
from .progress import CancelToken, ProgressEvent, ProgressTracker
from .timeline import Timeline, fit_narration

__all__ = ["AUTO_CHUNKED_SECONDS", "SceneReport", "VideoPipeline", "VideoResult",
           "music_spans"]

log = logging.getLogger("videogen.pipeline")
T = TypeVar("T")


@attrs.frozen
class SceneReport:
    """What happened to one scene: final duration, narration fitting, image used."""

    scene_number: int
    image: str
    duration: float
    requested_duration: float
    clip_action: str
    narration_duration: float = 0.0
    narration_speed: float = 1.0
    extended_by: float = 0.0
    #: the scene's ``renderer`` as asked (``auto``, ``kenburns``, ``comfyui``)...
    requested_renderer: str = "auto"
    #: ...and the renderer that made it (another one after a fallback)
    renderer: str = ""


#: ``auto`` render mode: jobs longer than this many seconds are rendered in chunks.
AUTO_CHUNKED_SECONDS = 300.0


@attrs.frozen
class VideoResult:
    """The stored video and its metadata (the seed's response plus more)."""

    video_url: str
    video_key: str
    duration: float
    scenes: int
    timestamp: str
    warnings: tuple[str, ...] = ()
    subtitles: dict[str, str] = attrs.field(factory=dict)
    scene_reports: tuple[SceneReport, ...] = ()
    size_bytes: int = 0
    loudness_lufs: float | None = None
    elapsed_seconds: float = 0.0
    #: the poster JPEG (a frame of the first scene, or of ``poster_scene``)
    poster_url: str | None = None
    #: how the video was made: ``stream`` (one encoder) or ``chunked``
    render_mode: str = "stream"


def music_spans(moods: Iterable[str], timeline: Timeline, crossfade: float
                ) -> list[tuple[str, float, float]]:
    """Music beds as ``(mood, start, end)``: adjacent scenes of one mood share a
    bed; where the mood changes, the beds overlap by ``crossfade`` seconds
    around the scene boundary. An empty mood continues the previous bed
    (leading empty moods take the first mood given)."""
    keys = [" ".join(m.lower().split()) for m in moods]
    first = next((k for k in keys if k), "")
    spans: list[list[Any]] = []
    for key, start, end in zip(keys, timeline.starts, timeline.ends, strict=True):
        key = key or (spans[-1][0] if spans else first)
        if spans and (key == spans[-1][0] or not key):
            spans[-1][2] = end
        else:
            spans.append([key, start, end])
    total = timeline.total
    out = []
    for i, (mood, start, end) in enumerate(spans):
        s = 0.0 if i == 0 else max(0.0, start - crossfade / 2)
        e = total if i == len(spans) - 1 else min(total, end + crossfade / 2)
        if i < len(spans) - 1:
            # a crossfade transition overlaps scenes: cut at the middle of the overlap
            e = min(total, spans[i + 1][1] + timeline.overlap / 2 + crossfade / 2)
        if i > 0:
            s = max(0.0, start + timeline.overlap / 2 - crossfade / 2)
        out.append((mood, round(s, 6), round(e, 6)))
    return out


class VideoPipeline:
    """Drives the ports to make one video. Adapters are injected; nothing global."""

    def __init__(
        self,
        *,
        storage: Storage,
        renderer: ClipRenderer,
        narrator: Narrator,
        music: MusicSource | None,
        muxer: Muxer,
        executor: Executor,
        video: VideoSettings | None = None,
        animation: AnimationSettings | None = None,
        audio: AudioSettings | None = None,
        workdir: Path | None = None,
        cache_dir: Path | None = None,
        soft_subtitles: bool = True,
        burn_subtitles: bool = False,
        stream_clips: bool = True,
        renderers: Mapping[str, ClipRenderer] | None = None,
        render_mode: str = "stream",
        chunked_above: float = AUTO_CHUNKED_SECONDS,
        prefer_chunks: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.storage = storage
        self.renderer = renderer
        self.narrator = narrator
        self.music = music
        self.muxer = muxer
        self.executor = executor
        self.video = video or VideoSettings()
        self.animation = animation or AnimationSettings()
        self.audio = audio or AudioSettings()
        self.workdir = workdir
        self.cache_dir = cache_dir
        self.soft_subtitles = soft_subtitles
        self.burn_subtitles = burn_subtitles
        #: stream clips into the muxer (one encode) when renderer and muxer can
        self.stream_clips = stream_clips
        #: renderers a scene can ask for by name (``Scene.renderer``) besides the default
        self.renderers = dict(renderers or {})
        if render_mode not in ("auto", "stream", "chunked"):
            raise ValueError(f"render_mode must be auto, stream or chunked, not {render_mode!r}")
        #: ``stream`` | ``chunked`` | ``auto`` (see the module docstring)
        self.render_mode = render_mode
        self.chunked_above = chunked_above
        self.prefer_chunks = prefer_chunks
        self._clock = clock

    def mode_for(self, timeline: Timeline) -> str:
        """The render mode of a job of ``timeline``: ``stream`` or ``chunked`` (only a
        muxer that renders chunks gets ``chunked``)."""
        if not getattr(self.muxer, "renders_chunks", False):
            return "stream"
        if self.render_mode == "auto":
            chunked = self.prefer_chunks or timeline.total > self.chunked_above
            return "chunked" if chunked else "stream"
        return self.render_mode

    @property
    def streamer(self) -> StreamingClipRenderer | None:
        """The renderer, when clips go to the muxer as frame sources instead of clip
        files: it can stream, the muxer can take streams, and it is enabled."""
        if (self.stream_clips and isinstance(self.renderer, StreamingClipRenderer)
                and getattr(self.muxer, "accepts_frame_sources", False)):
            return self.renderer
        return None

    def streamer_of(self, renderer: ClipRenderer) -> StreamingClipRenderer | None:
        """``renderer`` when its clips go to the muxer as frame sources."""
        if (self.stream_clips and isinstance(renderer, StreamingClipRenderer)
                and getattr(self.muxer, "accepts_frame_sources", False)):
            return renderer
        return None

    def renderer_for(self, scene: Scene, index: int) -> ClipRenderer:
        """The renderer of ``scene`` (``sequence_data[index]``): the default for
        ``auto``, else the one of that name; InvalidRequest naming
        ``sequence_data[index].renderer`` when this pipeline has none of that name."""
        name = scene.renderer
        if name == "auto" or getattr(self.renderer, "name", "") == name:
            return self.renderer
        found = self.renderers.get(name)
        if found is None:
            raise InvalidRequest(f"sequence_data[{index}].renderer",
                                 f"no {name} renderer is configured on this server", name)
        return found

    @property
    def streaming(self) -> bool:
        """True when clips are streamed into the muxer (see :attr:`streamer`)."""
        return self.streamer is not None

    # ------------------------------------------------------------------ run
    def run(
        self,
        folder_id: str,
        sequence: Sequence,
        *,
        progress: Callable[[ProgressEvent], None] | None = None,
        cancel: CancelToken | None = None,
        name: str | None = None,
    ) -> VideoResult:
        """Make, store and describe the video of ``sequence`` over the images of
        ``folder_id``. Raises a VideogenError (never another exception)."""
        cancel = cancel or CancelToken()
        tracker = ProgressTracker(progress, self._clock)
        started = self._clock()
        if self.workdir is not None:
            self.workdir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="videogen-", dir=self.workdir))
        inner = CancelToken()  # also fired by us to stop sibling work after a failure
        cancel.on_cancel(inner.cancel)
        run = _Run(self, folder_id, sequence, work, tracker, inner)
        try:
            result = run.execute()
            log.info("video %s stored: %.2f s, %d scenes, %d warnings, %.1f s wall",
                     result.video_key, result.duration, result.scenes, len(result.warnings),
                     self._clock() - started)
            return attrs.evolve(result, elapsed_seconds=round(self._clock() - started, 3))
        except InvalidImage as exc:
            named = run.named_for_user(exc)
            if named is exc:
                raise
            raise named from exc
        except VideogenError:
            raise
        except Exception as exc:  # an adapter broke its contract: still a domain error
            log.exception("unexpected failure in stage %s", tracker.stage)
            raise RenderFailed(tracker.stage or "pipeline", f"{type(exc).__name__}: {exc}") from exc
        finally:
            inner.cancel()
            shutil.rmtree(work, ignore_errors=True)


class _Run:
    """The state of one pipeline run (kept out of VideoPipeline so runs are independent)."""

    def __init__(self, p: VideoPipeline, folder_id: str, sequence: Sequence, work: Path,
                 tracker: ProgressTracker, cancel: CancelToken) -> None:
        self.p = p
        self.folder_id = folder_id
        self.sequence = sequence
        self.work = work
        self.tracker = tracker
        self.cancel = cancel
        self.warnings: list[str] = []
        self.renderers: list[ClipRenderer] = []  # per scene (Scene.renderer), once validated
        self.image_keys: dict[str, str] = {}  # name of a fetched copy → the user's key
        self.image_scenes: dict[str, int] = {}  # name of a fetched copy → its scene
        self.video = attrs.evolve(p.video, fps=sequence.params.fps)
        # this run's own lane of a shared, fair executor: its queued work takes turns
        # with other jobs' instead of queueing ahead of it
        lane = getattr(p.executor, "lane", None)
        self.executor: Executor = lane(object()) if callable(lane) else p.executor
        size = sequence.params.frame_size()  # the job's format, else the configured size
        if size is not None:
            self.video = attrs.evolve(self.video, width=size[0], height=size[1])
        self._stream_frames = 1  # frames of the video, once the timeline is known
        self._scene_ends: list[int] = []  # frame index where each scene ends (streamed)
        self._stream_music = 0  # music beds composed before a streamed mux
        self._stream_done = False  # render (and music) reported complete
        # clips muxed while they are rendered (_watch_renders, _mux_pending)
        self._mux_stop = CancelToken()  # stops that mux: the job cancelled, a render failed
        self._mux_seen = 0.0  # its share encoded so far
        self._clips_in = False  # every render is in: the mux reports its progress now
        self._pending_progress: Callable[[float], None] = self._mux_progress

    # -------------------------------------------------------------- helpers
    def named_for_user(self, exc: InvalidImage) -> InvalidImage:
        """``exc`` naming the user's image (``trip/scene_2.jpg``) instead of the
        working copy, and with no path of the working directory in its reason."""
        file = str(exc.details.get("file", ""))
        key = self.image_keys.get(Path(file).name, file)
        scene = exc.details.get("scene_number")
        if scene is None:
            scene = self.image_scenes.get(Path(file).name)
        reason = str(exc.details.get("reason", exc.message))
        for copy, user_key in self.image_keys.items():
            reason = reason.replace(str(self.work / "images" / copy), user_key)
            reason = reason.replace(copy, user_key)
        reason = reason.replace(str(self.work), "<work>")
        if key == file and reason == exc.details.get("reason"):
            return exc
        return InvalidImage(key, reason, scene)

    def _warn(self, text: str) -> None:
        if text not in self.warnings:
            log.warning(text)
            self.warnings.append(text)

    def _gather(self, stage: str | None, futures: list[Future[T]],
                labels: list[int | None] | None = None) -> list[T]:
        """Wait for every future, reporting progress (unless ``stage`` is None);
        cancel the rest on failure."""
        total = len(futures)
        if stage is not None:
            self.tracker.report(stage, 0, total)
        pending = set(futures)
        done_count = 0
        try:
            while pending:
                if self.cancel.cancelled:
                    raise Cancelled()
                finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                for future in finished:
                    future.result()  # raise the first failure at once
                    done_count += 1
                    label = labels[futures.index(future)] if labels else None
                    if stage is not None:
                        self.tracker.report(stage, done_count, total, scene_number=label,
                                            scenes_done=done_count if stage == "render"
                                            else None)
        except BaseException:
            for future in pending:
                future.cancel()
            self.cancel.cancel()  # tell running siblings (renders, ffmpeg) to stop
            wait(pending, timeout=30)
            raise
        return [f.result() for f in futures]

    # ------------------------------------------------------------------ run
    def execute(self) -> VideoResult:
        """Run every stage; see the module docstring."""
        p, seq, cancel = self.p, self.sequence, self.cancel
        scenes = seq.scenes
        numbers = [s.scene_number for s in scenes]

        # 1. validate
        self.tracker.report("validate", 0, 1)
        validate_sequence(seq, p.animation)
        self.renderers = [p.renderer_for(scene, i) for i, scene in enumerate(scenes)]
        actions = []
        for scene in scenes:
            limited = limit_clip_action(scene.clip_action, scene.duration,
                                        p.animation.movement_limits)
            if limited.dropped:
                allowed = len(limited.movements)
                self._warn(
                    f"scene {scene.scene_number}: dropped movement(s) "
                    f"{', '.join(str(m) for m in limited.dropped)} — a {scene.duration:g} s clip "
                    f"allows at most {allowed}"
                )
            actions.append(limited.text)
        self.tracker.report("validate", 1, 1)
        cancel.raise_if_cancelled()

        # 2. fetch images
        names = p.storage.list_images(self.folder_id)
        mapping = match_images(numbers, names, self.folder_id)
        for number, how in explain_match(numbers, names, mapping).items():
            self._warn(f"scene {number}: no image name ends in {number}; "
                       f"it uses {mapping[number]!r} ({how})")
        image_dir = self.work / "images"
        image_dir.mkdir()
        for i, n in enumerate(numbers):
            self.image_keys[f"{i:04d}_{Path(mapping[n]).name}"] = mapping[n]
            self.image_scenes[f"{i:04d}_{Path(mapping[n]).name}"] = n
        fetches = [
            self.executor.submit(p.storage.fetch, mapping[n],
                              image_dir / f"{i:04d}_{Path(mapping[n]).name}")
            for i, n in enumerate(numbers)
        ]
        images = self._gather("fetch", fetches, list(numbers))
        cancel.raise_if_cancelled()

        # 3. narrate, then fit narration into the scenes
        voice = seq.params.voice
        narr_dir = self.work / "narration"
        narr_dir.mkdir()
        base = Timeline.build([s.duration for s in scenes], seq.params.transition_type,
                              transition_length(seq, p.animation),
                              lead_in=p.animation.narration_lead_in,
                              gap=p.animation.narration_gap)
        # seeded per scene: the same inputs + seed give the same narration (and timing);
        # the token reaches the narrator, which stops between pieces of speech
        narration_seeds = [derive_seed(seq.params.seed, "narration", s.scene_number)
                           for s in scenes]
        jobs = [self.executor.submit(p.narrator.synthesize, s.narration,
                                     narr_dir / f"{i:04d}.wav", voice=voice,
                                     seed=narration_seeds[i], cancel=cancel)
                for i, s in enumerate(scenes)]
        narrations: list[Narration] = self._gather("narrate", jobs, list(numbers))
        durations: list[float] = []
        reports: list[SceneReport] = []
        for i, (scene, narration) in enumerate(zip(scenes, narrations, strict=True)):
            for w in narration.warnings:
                self._warn(f"scene {scene.scene_number}: {w}")
            loss = base.narration_loss(i)
            fit = fit_narration(scene.duration, narration.duration, loss, p.animation.max_speedup)
            if fit.speed > 1.0 + 1e-3:
                cancel.raise_if_cancelled()
                narration = p.narrator.synthesize(
                    scene.narration, narr_dir / f"{i:04d}_fit.wav", voice=voice, speed=fit.speed,
                    seed=narration_seeds[i], cancel=cancel)
                narrations[i] = narration
                # the engine's speed-up is not exact: make sure it still fits
                if narration.duration > scene.duration - loss + 1e-3:
                    need = narration.duration + loss
                    fit = attrs.evolve(fit, duration=max(fit.duration, need),
                                       extended_by=max(fit.duration, need) - scene.duration)
                self._warn(f"scene {scene.scene_number}: narration sped up ×{fit.speed:.2f} "
                           "to fit the scene")
            if fit.extended_by > 1e-6:
                self._warn(f"scene {scene.scene_number}: extended from {scene.duration:g} s to "
                           f"{fit.duration:.2f} s so the narration is not cut")
            durations.append(fit.duration)
            reports.append(SceneReport(scene.scene_number, mapping[scene.scene_number],
                                       round(fit.duration, 3), scene.duration, actions[i],
                                       round(narration.duration, 3), round(fit.speed, 3),
                                       round(fit.extended_by, 3)))
        timeline = base.with_durations(durations)
        cancel.raise_if_cancelled()

        # 4. render clips (or, streaming, check the images) and compose music, in parallel
        fps = self.video.fps
        frame_counts = timeline.frame_counts(fps)
        clip_dir = self.work / "clips"
        seed = seq.params.seed
        mode = p.mode_for(timeline)
        streamers = [p.streamer_of(r) for r in self.renderers]
        streaming = all(s is not None for s in streamers)  # every scene: progress by encode
        if not streaming:
            clip_dir.mkdir()
        clip_jobs: dict[int, Future[Any]] = {}
        requests: list[ClipRequest] = [None] * len(scenes)  # type: ignore[list-item]
        # longest clips first: parallel workers then finish together
        order = sorted(range(len(scenes)), key=lambda k: -frame_counts[k])
        for i in order:
            scene = scenes[i]
            requests[i] = ClipRequest(
                image_path=images[i], duration=timeline.durations[i], clip_action=actions[i],
                seed=derive_seed(seed, "scene", scene.scene_number), settings=self.video,
                scene_number=scene.scene_number, narration=scene.narration,
                cut_frames=timeline.cut_frames(i, fps), frame_count=frame_counts[i],
                focus=scene.focus)
        music_jobs: list[Future[Any]] = []
        spans = music_spans([s.music_mood for s in scenes], timeline, p.audio.music_crossfade)
        # clip files while they are still rendered: the muxer starts at once and waits for
        # each clip when it needs its frames (see videogen_core.pending); the music beds,
        # which the mux needs first, are queued ahead of the renders then
        file_source = getattr(p.muxer, "file_source", None)
        lazy = not streaming and callable(file_source)

        def compose_music() -> None:
            if p.music is None:
                return
            music_dir = self.work / "music"
            music_dir.mkdir()
            for k, (mood, start, end) in enumerate(spans):
                music_jobs.append(self.executor.submit(
                    p.music.compose, mood, end - start, music_dir / f"{k:03d}.wav",
                    seed=derive_seed(seed, "music", k), cancel=cancel))

        # renderers that queue work on servers get their clips before any render starts
        self._render_ahead([(i, requests[i], clip_dir / f"{i:04d}.mp4")
                            for i in order if streamers[i] is None])
        if lazy:
            compose_music()
        for i in order:
            request = requests[i]
            streamer = streamers[i]
            if streamer is not None and mode == "chunked":
                # the image is looked at only if one of the scene's chunks is not cached
                done: Future[Any] = Future()
                done.set_result(_DeferredSource(streamer, request))
                clip_jobs[i] = done
            elif streamer is not None:
                # frames are made while the muxer encodes; a bad image fails here, early
                clip_jobs[i] = self.executor.submit(streamer.stream, request)
            else:
                clip_jobs[i] = self.executor.submit(self._render, self.renderers[i], request,
                                                    clip_dir / f"{i:04d}.mp4")
        if not lazy:
            compose_music()
        scene_keys: tuple[str, ...] = ()
        if mode == "chunked":
            scene_keys = tuple(_clip_cache_key(r, q) for r, q in zip(self.renderers, requests,
                                                                     strict=True))
        ordered = [clip_jobs[i] for i in range(len(scenes))]
        plan_clips: tuple[Path | FrameSource, ...]
        pending: list[PendingClip] = []
        if lazy:
            beds = self._gather(None, music_jobs) if music_jobs else []
            self._mux_stop = CancelToken()
            cancel.on_cancel(self._mux_stop.cancel)
            assert file_source is not None
            pending = [PendingClip(i, ordered[i], frame_counts[i], self.video, file_source,
                                   self._mux_stop, keyed=bool(scene_keys and scene_keys[i]),
                                   renders_file=streamers[i] is None)
                       for i in range(len(scenes))]
            plan_clips = tuple(pending)
            self._watch_renders(ordered, list(numbers), len(music_jobs))
        else:
            # streaming, progress is reported by the encode itself (see _stream_progress)
            plan_clips, scene_keys = self._take_clips(self._gather(
                None if streaming else "render", ordered, list(numbers)), scene_keys, reports)
            beds = self._gather(None if streaming else "music", music_jobs) if music_jobs else []
        placements = []
        for bed, (_, start, end) in zip(beds, spans, strict=False):
            for w in bed.warnings:
                self._warn(f"music: {w}")
            placements.append(MusicPlacement(bed.path, start, end, bed.mood))
        cancel.raise_if_cancelled()

        # 5. mux
        cues: list[Cue] = []
        placed: list[NarrationPlacement] = []
        for i, narration in enumerate(narrations):
            if narration.path is None or narration.duration <= 0:
                continue
            start = timeline.narration_starts[i]
            placed.append(NarrationPlacement(narration.path, start, narration.duration))
            cues.extend(c.shifted(start) for c in narration.cues)
        cues = list(timed_words(cues))  # every cue's words timed (estimated where not)
        style = seq.params.caption_style or "subtitle"
        plan = MuxPlan(timeline=timeline, clips=plan_clips,
                       narrations=tuple(placed), music=tuple(placements), cues=tuple(cues),
                       video=self.video, audio=p.audio, soft_subtitles=p.soft_subtitles,
                       # karaoke and bold exist only burnt in; subtitle as configured
                       burn_subtitles=style in ("karaoke", "bold") or (
                           style == "subtitle" and p.burn_subtitles),
                       caption_style=style, chapters=_chapters(seq, timeline),
                       poster=_poster_span(seq, timeline), render_mode=mode,
                       scene_keys=scene_keys)
        final = self.work / "final.mp4"
        self._stream_frames = timeline.total_frames(fps)
        self._scene_ends = [min(round(end * fps), self._stream_frames) for end in timeline.ends]
        self._stream_music = len(music_jobs)
        if lazy:
            muxed = self._mux_pending(plan, final, ordered, pending, reports)
        else:
            if not streaming:
                self.tracker.report("mux", 0, 1)
            muxed = p.muxer.mux(plan, final, executor=self.executor,
                                progress=self._stream_progress if streaming
                                else self._mux_progress, cancel=cancel)
        if streaming:
            self._stream_rendered()  # when the muxer reported no progress
        for w in muxed.warnings:
            self._warn(w)
        self.tracker.report("mux", 1, 1)
        cancel.raise_if_cancelled()

        # 6. store: subtitles first, the video last
        stamp = datetime.now(UTC)
        # unique per job: two jobs on one folder within one second (another narration,
        # the same seed and scene numbers) must not overwrite each other's video
        token = derive_seed(seed, repr(seq), uuid.uuid4().hex)
        stem = f"{self.folder_id}/videos/{stamp:%Y%m%dT%H%M%SZ}-{token:08x}"
        self.tracker.report("store", 0, 1)
        stored: list[str] = []
        subtitles: dict[str, str] = {}
        try:
            if cues:
                for ext, text, ctype in (("srt", format_srt(cues), "application/x-subrip"),
                                         ("vtt", format_vtt(cues), "text/vtt"),
                                         ("words.json", format_words_json(cues),
                                          "application/json")):
                    path = self.work / f"captions.{ext}"
                    path.write_text(text, encoding="utf-8")
                    key = p.storage.put(path, f"{stem}.{ext}", ctype)
                    stored.append(key)
                    subtitles[ext.removesuffix(".json")] = p.storage.url(key)
            poster_url = None
            if muxed.poster is not None:
                key = p.storage.put(muxed.poster, f"{stem}.jpg", "image/jpeg")
                stored.append(key)
                poster_url = p.storage.url(key)
            cancel.raise_if_cancelled()
            video_key = p.storage.put(final, f"{stem}.mp4", "video/mp4")
            stored.append(video_key)
            url = p.storage.url(video_key)
        except BaseException:
            for key in stored:
                try:
                    p.storage.delete(key)
                except VideogenError:
                    log.warning("could not remove %s after a failed store", key)
            raise
        self.tracker.report("store", 1, 1)
        return VideoResult(
            video_url=url, video_key=video_key, duration=round(muxed.duration, 3),
            scenes=len(scenes), timestamp=stamp.isoformat().replace("+00:00", "Z"),
            warnings=tuple(self.warnings), subtitles=subtitles, scene_reports=tuple(reports),
            size_bytes=final.stat().st_size, loudness_lufs=muxed.loudness_lufs,
            poster_url=poster_url, render_mode=mode)

    def _mux_progress(self, fraction: float) -> None:
        self.tracker.report("mux", fraction, 1)

    def _take_clips(self, clips: list[Any], scene_keys: tuple[str, ...],
                    reports: list[SceneReport]) -> tuple[tuple[Path | FrameSource, ...],
                                                         tuple[str, ...]]:
        """The muxer's clips from the renders' results: each clip's warnings, the renderer
        that made it in its scene's report, a fallback's scene key blanked."""
        made: list[Path | FrameSource] = []
        for i, (scene, clip) in enumerate(zip(self.sequence.scenes, clips, strict=True)):
            name = getattr(self.renderers[i], "name", "")
            if isinstance(clip, RenderedClip):
                for w in clip.warnings:
                    self._warn(f"scene {scene.scene_number}: {w}")
                name = clip.renderer or name
                if clip.renderer and scene_keys:  # a fallback's frames: not under this key
                    scene_keys = (*scene_keys[:i], "", *scene_keys[i + 1:])
                made.append(clip.path)
            else:
                made.append(clip)
            reports[i] = attrs.evolve(reports[i], requested_renderer=scene.renderer,
                                      renderer=name)
        return tuple(made), scene_keys

    def _watch_renders(self, futures: list[Future[Any]], labels: list[int], music: int
                       ) -> None:
        """Report the renders as they finish while the muxer already encodes (the
        ``render`` stage, then the music beds composed before the mux, then the mux at
        the share it has already encoded); a failed render stops the mux (its error is
        then raised by :meth:`_mux_pending`)."""
        total = len(futures)
        lock = threading.Lock()
        done = [0]
        self._mux_seen = 0.0
        self._clips_in = False

        def finished(future: Future[Any], label: int) -> None:
            with lock:
                if future.cancelled() or future.exception() is not None:
                    self._mux_stop.cancel()
                    return
                done[0] += 1
                self.tracker.report("render", done[0], total, scene_number=label,
                                    scenes_done=done[0])
                if done[0] == total:
                    if music:
                        self.tracker.report("music", music, music)
                    self._clips_in = True
                    self.tracker.report("mux", self._mux_seen, 1)

        def mux_progress(fraction: float) -> None:
            with lock:
                self._mux_seen = fraction
                if self._clips_in:
                    self.tracker.report("mux", fraction, 1)

        self._pending_progress = mux_progress
        self.tracker.report("render", 0, total)
        for future, label in zip(futures, labels, strict=True):
            future.add_done_callback(functools.partial(finished, label=label))

    def _mux_pending(self, plan: MuxPlan, final: Path, futures: list[Future[Any]],
                     pending: list[PendingClip], reports: list[SceneReport]) -> MuxResult:
        """Mux ``plan`` whose clips are :class:`PendingClip` while they are rendered, then
        take the renders' results as :meth:`_take_clips` does. A failed render is raised
        as when every clip was gathered first; a fallback's clip in a chunk keyed for its
        renderer makes the video again with that scene's key blank (never cached)."""
        p = self.p
        muxed: MuxResult | None = None
        try:
            muxed = p.muxer.mux(plan, final, executor=self.executor,
                                progress=self._pending_progress, cancel=self._mux_stop)
        except BaseException as exc:
            failed = any(f.done() and not f.cancelled() and f.exception() is not None
                         for f in futures)
            # (chunked, a sibling chunk's Cancelled may be what the muxer raises)
            if (isinstance(exc, Exception) and not failed and not self.cancel.cancelled
                    and any(clip.fell_back for clip in pending)):
                pass  # made again below, once every clip is in
            else:
                if failed or self.cancel.cancelled:
                    self._gather(None, futures)  # raises the render's failure (or Cancelled)
                for future in futures:
                    future.cancel()
                self.cancel.cancel()  # renders still running stop
                raise
        clips, keys = self._take_clips(self._gather(None, futures), plan.scene_keys, reports)
        if muxed is None or keys != plan.scene_keys:
            # a scene fell back: its chunks are made (and kept) without its key, as when
            # every clip was gathered before the mux
            self._clips_in = True
            muxed = p.muxer.mux(attrs.evolve(plan, clips=clips, scene_keys=keys), final,
                                executor=self.executor, progress=self._pending_progress,
                                cancel=self.cancel)
        else:
            for clip in pending:
                if clip.warning:
                    self._warn(clip.warning)
        return muxed

    def _stream_progress(self, fraction: float) -> None:
        """A streamed mux renders as it encodes: report its encode as ``render``
        (in frames of the video)."""
        if fraction < STREAM_ENCODE_SHARE:
            total = self._stream_frames
            frames = round(fraction / STREAM_ENCODE_SHARE * total)
            self.tracker.report("render", frames, total, scenes_done=self._scenes_at(frames),
                                frames_done=frames, frames_total=total)
        else:
            self._stream_rendered()
            self.tracker.report("mux", (fraction - STREAM_ENCODE_SHARE) /
                                (1 - STREAM_ENCODE_SHARE), 1)

    def _stream_rendered(self) -> None:
        """The streamed encode is done: report render (and the music, composed before
        the mux) complete, once, before any ``mux`` event so stages never go back."""
        if self._stream_done:
            return
        self._stream_done = True
        total = self._stream_frames
        self.tracker.report("render", total, total, scenes_done=len(self.sequence.scenes),
                            frames_done=total, frames_total=total)
        if self._stream_music:
            self.tracker.report("music", self._stream_music, self._stream_music)

    def _scenes_at(self, frames: int) -> int:
        """Scenes of a streamed encode whole once ``frames`` frames are encoded."""
        return sum(1 for end in self._scene_ends if end <= frames)

    def _render_ahead(self, jobs: list[tuple[int, ClipRequest, Path]]) -> None:
        """A renderer that queues work on servers (ComfyUI: ``render_ahead``) gets every
        clip of its scenes not in the cache now, so its servers never wait for our
        workers (busy conforming earlier clips); :meth:`_render` then takes each result."""
        cache = self.p.cache_dir
        batches: dict[int, tuple[Any, list[tuple[ClipRequest, Path]]]] = {}
        for i, request, output in jobs:
            renderer = self.renderers[i]
            ahead = getattr(renderer, "render_ahead", None)
            if ahead is None or (cache is not None and (
                    cache / f"{_clip_cache_key(renderer, request)}.mp4").exists()):
                continue
            batches.setdefault(id(renderer), (ahead, []))[1].append((request, output))
        for ahead, batch in batches.values():
            ahead(batch, cancel=self.cancel)

    def _render(self, renderer: ClipRenderer, request: ClipRequest, output: Path
                ) -> RenderedClip:
        """Render one clip, from the content-hash cache when an identical one exists."""
        self.cancel.raise_if_cancelled()
        cache = self.p.cache_dir
        key = _clip_cache_key(renderer, request) if cache else ""
        if cache is not None:
            cached = cache / f"{key}.mp4"
            if cached.exists():
                shutil.copyfile(cached, output)
                log.info("scene %s: clip taken from cache", request.scene_number)
                return RenderedClip(output, request.frames, request.frames / request.settings.fps)
        clip = renderer.render(request, output, cancel=self.cancel)
        if cache is not None and not clip.renderer:  # a fallback's clip is not the real one
            cache.mkdir(parents=True, exist_ok=True)
            tmp = cache / f".{key}.{id(request)}.tmp"
            shutil.copyfile(clip.path, tmp)
            tmp.replace(cache / f"{key}.mp4")
        return clip


class _DeferredSource(LateSource):
    """A streaming renderer's frame source made when first needed: chunked, a scene
    whose chunks are all cached is never looked at (no decode, no subject search);
    a bad image then fails when its chunk is prepared (still InvalidImage)."""

    def __init__(self, streamer: StreamingClipRenderer, request: ClipRequest) -> None:
        self.streamer = streamer
        self.request = request
        self._source: FrameSource | None = None
        self._lock = threading.Lock()

    @property
    def frame_count(self) -> int:
        """The scene's frames on the timeline."""
        return self.request.frames

    def source(self) -> FrameSource:
        """The real frame source (made once)."""
        with self._lock:
            if self._source is None:
                self._source = self.streamer.stream(self.request)
            return self._source


def _chapters(seq: Sequence, timeline: Timeline) -> tuple[Chapter, ...]:
    """One chapter per scene, from the middle of its incoming crossfade (the cut a
    viewer sees) to the next one; titled by the scene's first words."""
    starts = [s + (timeline.overlap / 2 if i else 0.0) for i, s in enumerate(timeline.starts)]
    ends = [*starts[1:], timeline.total]
    return tuple(Chapter(round(a, 3), round(b, 3), chapter_title(scene.narration,
                                                                   scene.scene_number))
                 for a, b, scene in zip(starts, ends, seq.scenes, strict=True))


def _poster_span(seq: Sequence, timeline: Timeline) -> tuple[float, float]:
    """The seconds of the poster scene (``poster_scene``, else the first) that no
    transition touches."""
    numbers = [s.scene_number for s in seq.scenes]
    wanted = seq.params.poster_scene
    i = numbers.index(wanted) if wanted in numbers else 0
    n = len(numbers)
    edge = (timeline.overlap if timeline.transition == "crossfade"
            else timeline.transition_duration / 2 if timeline.transition == "fade" else 0.0)
    start = timeline.starts[i] + (edge if i > 0 and n > 1 else 0.0)
    end = timeline.ends[i] - (edge if i < n - 1 else 0.0)
    return (round(start, 3), round(max(start, end), 3))


def _clip_cache_key(renderer: ClipRenderer | StreamingClipRenderer, request: ClipRequest) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(request.image_path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    # the narration too where the renderer says it decides frames (``keyed_fields``:
    # ComfyUI puts it in the prompt)
    skipped = {"image_path", "narration"} - set(getattr(renderer, "keyed_fields", ()))
    fields = attrs.asdict(request, recurse=True, filter=lambda a, _: a.name not in skipped)
    # the renderer's name, version and own options (``cache_token``: e.g. Ken Burns' fit)
    digest.update(repr((getattr(renderer, "name", type(renderer).__name__),
                        getattr(renderer, "version", 1), getattr(renderer, "cache_token", ""),
                        sorted(fields.items()))).encode())
    return digest.hexdigest()[:32]
