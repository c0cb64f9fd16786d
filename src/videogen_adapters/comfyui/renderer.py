"""``ComfyUIClipRenderer``: the ClipRenderer port over a ComfyUI server.

Per clip: upload the scene image (content-hashed name), bind the template's
inputs (image, seed, frames, fps, size, prompt, negative prompt, motion),
run the prompt, download the output, and let the ffmpeg layer's
``conform_clip`` turn it into the requested clip (exact frames, size, fps, IDR
at the cut frames) — encoded losslessly and fast (``lossless=True``): the muxer
decodes it frame for frame into its one encode with the final settings, so no
frame is lossy-encoded twice. Scenes longer than ``max_duration`` or the
template's ``max_frames`` are chained segments (see
:mod:`videogen_adapters.comfyui.planning`): each segment starts from the last
kept frame of the previous one, whose repeated first frame is dropped.

Scheduling (see :mod:`videogen_adapters.comfyui.scheduler`): ``concurrency``
is each server's window of prompts queued or executing at once (2: one
executing, one waiting, so the server never waits for us). The server part
of a clip (upload, prompt, download, join) runs on the renderer's own
threads; :meth:`ComfyUIClipRenderer.render_ahead` starts it for every clip of
a job up front, so prompts are queued whenever a slot is free, while the
pipeline's workers conform finished clips. With several servers (several
clients), a scene's chained segments stay on one server and each scene goes
to the least-loaded one.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import itertools
import json
import logging
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import attrs

from videogen_core import (
    CancelToken,
    ClipRequest,
    RenderedClip,
    RenderFailed,
    ServiceUnavailable,
    VideogenError,
)

from .client import ComfyUIClient, PromptResult
from .media import FrameJoiner, frame_png, iter_frames, png_bytes, prepare_image
from .outputs import pick_outputs
from .planning import (
    DEFAULT_NEGATIVE_PROMPT,
    Segment,
    build_prompt,
    motion_value,
    plan_segments,
    segment_seed,
)
from .scheduler import Lease, PromptScheduler
from .workflow import WorkflowTemplate

__all__ = ["ComfyUIClipRenderer", "Conform", "Dispatch"]

log = logging.getLogger(__name__)

Conform = Callable[..., RenderedClip]
Progress = Callable[[float], None]


def _default_conform() -> Conform:
    from videogen_adapters.ffmpeg.conform import conform_clip

    return functools.partial(conform_clip, lossless=True)


def _cache_token(template: WorkflowTemplate, negative_prompt: str, max_duration: float,
                 conform: Conform | None) -> str:
    """What decides a clip's frames besides its request: the template's graph (model
    names, sampler settings...) and every option that changes what is asked for or how
    the output is fitted; never where it runs (server URLs, concurrency, timeout)."""
    fields = attrs.asdict(template, recurse=True,
                          filter=lambda a, _: a.name not in {"name", "description"})
    step = "conform_clip(lossless)" if conform is None else (
        f"{getattr(conform, '__module__', '')}.{getattr(conform, '__qualname__', '')}"
        if callable(conform) and hasattr(conform, "__qualname__")
        else f"{type(conform).__module__}.{type(conform).__qualname__}")
    text = json.dumps({"template": fields, "negative_prompt": negative_prompt,
                       "max_duration": max_duration, "conform": step},
                      sort_keys=True, default=repr)
    return "comfyui:" + hashlib.sha256(text.encode()).hexdigest()[:24]


class ComfyUIClipRenderer:
    """Renders clips with a ComfyUI workflow template (see the module docstring).

    ``client``: one server's client, or a sequence of them (one per server).
    ``dispatches`` lists the last prompts sent (scene, segment, server, prompt id).
    """

    name = "comfyui"
    #: part of the clip and chunk cache keys: 2 = lossless intermediate clips
    version = 2
    #: request fields that decide the frames although other renderers ignore them (the
    #: narration is part of the prompt): kept in the clip cache key
    keyed_fields = ("narration",)

    def __init__(
        self,
        client: ComfyUIClient | Sequence[ComfyUIClient],
        template: WorkflowTemplate,
        *,
        max_duration: float = 6.0,
        concurrency: int = 2,
        conform: Conform | None = None,
        timeout: float = 600.0,
        negative_prompt: str | None = None,
    ) -> None:
        if max_duration <= 0:
            raise ValueError("max_duration must be > 0")
        self.clients: list[ComfyUIClient] = (list(client) if isinstance(client, (list, tuple))
                                             else [client])  # type: ignore[list-item]
        self.client = self.clients[0]
        self.template = template
        self.max_duration = max_duration
        self.timeout = timeout
        self.negative_prompt = (negative_prompt if negative_prompt is not None
                                else template.negative_prompt or DEFAULT_NEGATIVE_PROMPT)
        self._conform = conform if conform is not None else _default_conform()
        #: the rest of what decides the frames, for cache keys (clips, chunks): see
        #: :func:`_cache_token` (the server URLs are not in it)
        self.cache_token = _cache_token(template, self.negative_prompt, max_duration, conform)
        self.scheduler: PromptScheduler[ComfyUIClient] = PromptScheduler(self.clients,
                                                                          concurrency)
        self.dispatches: collections.deque[Dispatch] = collections.deque(maxlen=1000)
        self._jobs: dict[tuple[ClipRequest, Path], _ClipJob] = {}
        self._jobs_lock = threading.RLock()  # a cancel may forget a job while one starts
        self._order = itertools.count()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._prepare_lock = threading.Lock()

    # ------------------------------------------------------------- planning
    def generation_fps(self, request: ClipRequest) -> float:
        """Frames per second the model generates at: the template's native fps, else the clip's."""
        return self.template.native_fps or float(request.settings.fps)

    def plan(self, request: ClipRequest) -> list[Segment]:
        """The chained segments for ``request`` (one when the scene fits in one prompt)."""
        fps = self.generation_fps(request)
        total = max(1, round(request.duration * fps))
        per_prompt = max(2, int(self.max_duration * fps + 1e-9))
        capacity = self.template.frame_capacity(per_prompt)
        return plan_segments(total, capacity, self.template.frame_step)

    def values(self, request: ClipRequest, segment: Segment, image: str) -> dict[str, Any]:
        """The bound inputs of one segment's prompt."""
        width, height = self.template.size(request.settings.width, request.settings.height)
        values: dict[str, Any] = {
            "image": image,
            "seed": segment_seed(request.seed, request.scene_number, segment.index),
            "frames": segment.frames,
            "fps": self.generation_fps(request),
            "width": width,
            "height": height,
            "prompt": build_prompt(request.clip_action, request.narration),
            "negative_prompt": self.negative_prompt,
        }
        motion = self.template.motion
        if motion:
            values["motion"] = motion_value(
                request.clip_action, float(motion.get("base", 127)), float(motion.get("min", 1)),
                float(motion.get("max", 1023)), bool(motion.get("integer", True)))
        return values

    # --------------------------------------------------------------- health
    def check(self) -> None:
        """Readiness: every server answers and has every node class of the template."""
        for client in self.clients:
            client.system_stats()
            client.check_nodes(self.template.class_types, self.template.name)

    # --------------------------------------------------------------- render
    def render_ahead(self, jobs: Iterable[tuple[ClipRequest, Path]], *,
                     cancel: CancelToken | None = None) -> None:
        """Start the server part of these clips now, in this order; a later
        :meth:`render` of the same ``(request, output_path)`` takes the result.

        The pipeline calls this with every clip of a job before its workers call
        :meth:`render`, so prompts are queued as soon as a server has a free slot
        instead of when a worker gets to the scene. Cancelling ``cancel`` stops
        every clip not yet taken (queued prompts are deleted, a running one is
        interrupted) and removes their files.
        """
        started: list[_ClipJob] = []
        if cancel is not None:  # registered first: runs before each clip stops its own prompt
            cancel.on_cancel(lambda: self._stop_all(started))
        for request, output_path in jobs:
            with self._jobs_lock:
                key = (request, output_path)
                if key not in self._jobs:
                    job = self._start(request, output_path, cancel)
                    self._jobs[key] = job
                    started.append(job)
                    # a cancelled clip nobody took is forgotten once stopped (no leak in a
                    # long-lived service; until then a render() waits for it to stop)
                    job.token.on_cancel(functools.partial(self._forget_when_done, key, job))

    def _forget_when_done(self, key: tuple[ClipRequest, Path], job: _ClipJob) -> None:
        job.future.add_done_callback(lambda _: self._forget(key, job))

    def _forget(self, key: tuple[ClipRequest, Path], job: _ClipJob) -> None:
        with self._jobs_lock:
            if self._jobs.get(key) is job:
                del self._jobs[key]

    def _stop_all(self, jobs: list[_ClipJob]) -> None:
        """On cancel: first stop the clips with nothing on a server (so none takes a slot
        freed below), then delete the queued prompts in one request per server, then
        let each clip stop its own prompt (interrupting a running one only now, when no
        waiting prompt of ours is left for the server to start)."""
        jobs = list(jobs)
        for job in jobs:
            if job.prompt is None:
                job.token.cancel()
        by_server: dict[int, list[str]] = {}
        for job in jobs:
            current = job.prompt
            if current is not None:
                by_server.setdefault(current[0], []).append(current[1])
        for index, ids in by_server.items():
            try:
                self.clients[index].delete_queued(ids)
            except VideogenError as exc:
                log.warning("comfyui: could not delete queued prompts: %s", exc)
        for job in jobs:
            job.token.cancel()

    def discard(self, request: ClipRequest, output_path: Path) -> None:
        """Drop a clip started by :meth:`render_ahead` that will not be taken."""
        with self._jobs_lock:
            job = self._jobs.pop((request, output_path), None)
        if job is not None:
            job.token.cancel()

    def render(self, request: ClipRequest, output_path: Path, *, progress: Progress | None = None,
               cancel: CancelToken | None = None) -> RenderedClip:
        """Render ``request`` into ``output_path`` (see :class:`~videogen_core.ClipRenderer`)."""
        with self._jobs_lock:
            job = self._jobs.pop((request, output_path), None)
            if job is None:
                job = self._start(request, output_path, cancel)
            job.claimed = True
        if cancel is not None:
            cancel.on_cancel(job.token.cancel)
        job.watch(progress)
        try:
            joined = job.future.result()
            clip = self._conform(joined, request, output_path, cancel=cancel)
        finally:
            job.remove_files()
        if progress is not None:
            progress(1.0)
        return clip

    def _start(self, request: ClipRequest, output_path: Path,
               cancel: CancelToken | None) -> _ClipJob:
        """Create a clip job (its scheduler lease taken now, so scenes are placed in the
        order they were started) and run its server part on the renderer's threads."""
        segments = self.plan(request)
        output_path.parent.mkdir(parents=True, exist_ok=True)
        job = _ClipJob(request, output_path, segments,
                       self.scheduler.lease(next(self._order), len(segments)))
        if cancel is not None:
            cancel.on_cancel(job.token.cancel)
        job.token.on_cancel(job.drop_unclaimed)
        if self._pool is None:
            with self._pool_lock:
                if self._pool is None:
                    # threads mostly wait (for a slot, a prompt, a download); a clip whose
                    # thread is busy joining a finished output must not keep the next
                    # scene from being queued, so there are many more than slots
                    self._pool = ThreadPoolExecutor(
                        max_workers=max(16, 4 * self.scheduler.window * len(self.clients)),
                        thread_name_prefix="comfyui")
        job.future = self._pool.submit(self._produce, job)
        return job

    def _produce(self, job: _ClipJob) -> Path:
        """The server part of one clip: every segment prompted, downloaded and joined
        losslessly (on a renderer thread); returns the joined file."""
        request, cancel, segments = job.request, job.token, job.segments
        try:
            cancel.raise_if_cancelled()
            with self._prepare_lock:  # one at a time: the first scene's prompt goes out first
                image = prepare_image(request.image_path, request.scene_number)
                image = frame_png(image, (request.settings.width, request.settings.height),
                                  request.focus)
            job.work = Path(tempfile.mkdtemp(prefix=".comfyui-", dir=job.output_path.parent))
            joined = job.work / "joined.mkv"
            with FrameJoiner(joined, self.generation_fps(request)) as joiner:
                for segment in segments:
                    def report(fraction: float, k: int = segment.index) -> None:
                        job.report(0.95 * (k + fraction) / len(segments))
                    files = self._run_segment(request, segment, image, job.work, report,
                                              cancel, job)
                    image = self._append(joiner, files, segment)
            return joined
        except BaseException:
            job.remove_files()
            raise
        finally:
            job.lease.close()

    @staticmethod
    def _append(joiner: FrameJoiner, files: list[Path], segment: Segment) -> bytes:
        """Add a segment's kept frames (minus the repeated first one after the first
        segment) and return the last one as PNG: the next segment's image."""
        wanted = segment.keep - (1 if segment.index else 0)
        frames = iter_frames(files)
        kept = 0
        try:
            if segment.index:
                next(frames, None)
            for frame in frames:
                if kept >= wanted:
                    break
                joiner.write(frame)
                kept += 1
        finally:
            frames.close()  # closes the decoder of a file we stopped reading early
        if kept == 0 or joiner.last is None:
            raise RenderFailed("comfyui output", "the workflow produced no frames",
                               segment=segment.index)
        return png_bytes(joiner.last)

    def _run_segment(self, request: ClipRequest, segment: Segment, image: bytes, work: Path,
                     report: Progress, cancel: CancelToken, job: _ClipJob) -> list[Path]:
        lease = job.lease
        name = None
        if lease.server is not None:  # a continuation: its server is known, upload first
            name = self.clients[lease.server].upload_image(image, cancel=cancel)
        for _ in range(len(self.clients)):
            with lease.slot(cancel) as (index, client):
                if name is None:  # a first segment: upload to the server it was given
                    try:
                        name = client.upload_image(image, cancel=cancel)
                    except ServiceUnavailable as exc:
                        if not self.scheduler.mark_down(index):
                            raise
                        log.warning("comfyui: %s does not answer (%s); scene %s goes to "
                                    "another server", self._url(client),
                                    exc.details.get("reason", exc.message),
                                    request.scene_number)
                        lease.move()
                        continue
                result = self._queue(request, segment, name, index, client, report, cancel, job)
            break
        else:
            raise ServiceUnavailable("comfyui", "no ComfyUI server answers")
        picked = pick_outputs(result.outputs, self.template.output_node)
        if not picked:
            raise RenderFailed("comfyui output", "the workflow finished without a video or image "
                               "output", prompt_id=result.prompt_id, outputs=result.outputs)
        if len(picked) > 1:  # a still sequence: fetch only the frames the clip keeps
            picked = picked[:segment.keep]
        paths = []
        for i, item in enumerate(picked):
            paths.append(client.download(
                item, work / f"seg{segment.index:03d}_{i:05d}{item.suffix or '.bin'}"))
        report(1.0)
        return paths

    def _queue(self, request: ClipRequest, segment: Segment, name: str, index: int,
               client: ComfyUIClient, report: Progress, cancel: CancelToken,
               job: _ClipJob) -> PromptResult:
        """Bind and run one segment's prompt on ``client`` (its slot is held)."""
        graph = self.template.bind(self.values(request, segment, name))
        prompt_id = str(uuid.uuid4())
        job.prompt = (index, prompt_id)  # first: a cancel from now on deletes it
        self.dispatches.append(Dispatch(request.scene_number, segment.index, index, prompt_id))
        log.info("comfyui: scene %s segment %d → %s (prompt %s)", request.scene_number,
                 segment.index, self._url(client), prompt_id)
        try:
            # the slot is given back when the prompt has executed, before the download
            return client.run(graph, progress=report, cancel=cancel, timeout=self.timeout,
                              prompt_id=prompt_id)
        finally:
            job.prompt = None

    @staticmethod
    def _url(client: ComfyUIClient) -> str:
        return str(getattr(client, "base_url", "?"))


@attrs.frozen
class Dispatch:
    """One prompt sent: scene, segment, server (index into ``clients``) and prompt id."""

    scene_number: int
    segment: int
    server: int
    prompt_id: str


class _ClipJob:
    """The server part of one clip, running on a renderer thread; taken by ``render``."""

    def __init__(self, request: ClipRequest, output_path: Path, segments: list[Segment],
                 lease: Lease[ComfyUIClient]) -> None:
        self.request = request
        self.output_path = output_path
        self.segments = segments
        self.lease = lease
        self.prompt: tuple[int, str] | None = None  # (server, prompt id) queued or running
        self.token = CancelToken()
        self.future: Future[Path] = Future()
        self.work: Path | None = None
        self.claimed = False
        self._lock = threading.Lock()
        self._best = 0.0
        self._progress: Progress | None = None

    def watch(self, progress: Progress | None) -> None:
        """Send progress (monotonic) to ``progress`` from now on, starting with the best so far."""
        with self._lock:
            self._progress = progress
            best = self._best
        if progress is not None and best > 0:
            progress(best)

    def report(self, value: float) -> None:
        with self._lock:
            if value <= self._best:
                return
            self._best = value
            progress = self._progress
        if progress is not None:
            progress(value)

    def drop_unclaimed(self) -> None:
        """On cancel: remove the files of a finished clip nobody will take."""
        if not self.claimed and self.future.done():
            self.remove_files()

    def remove_files(self) -> None:
        with self._lock:
            work, self.work = self.work, None
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
