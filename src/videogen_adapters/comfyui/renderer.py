"""``ComfyUIClipRenderer``: the ClipRenderer port over a ComfyUI server.

Per clip: upload the scene image (content-hashed name), bind the template's
inputs (image, seed, frames, fps, size, prompt, negative prompt, motion),
run the prompt, download the output, and let the ffmpeg layer's
``conform_clip`` turn it into the requested clip (exact frames, size, fps,
encoding, IDR at the cut frames). Scenes longer than ``max_duration`` or the
template's ``max_frames`` are chained segments (see
:mod:`videogen_adapters.comfyui.planning`): each segment starts from the last
kept frame of the previous one, whose repeated first frame is dropped.

``concurrency`` bounds the prompts this renderer has queued on the server at
once (renders of several scenes run in parallel threads; uploads,
downloads and conforming are not limited).
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from videogen_core import (
    CancelToken,
    ClipRequest,
    RenderedClip,
    RenderFailed,
)

from .client import ComfyUIClient
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
from .workflow import WorkflowTemplate

__all__ = ["ComfyUIClipRenderer", "Conform"]

Conform = Callable[..., RenderedClip]
Progress = Callable[[float], None]


def _default_conform() -> Conform:
    from videogen_adapters.ffmpeg.conform import conform_clip

    return conform_clip


class ComfyUIClipRenderer:
    """Renders clips with a ComfyUI workflow template (see the module docstring)."""

    name = "comfyui"

    def __init__(
        self,
        client: ComfyUIClient,
        template: WorkflowTemplate,
        *,
        max_duration: float = 6.0,
        concurrency: int = 1,
        conform: Conform | None = None,
        timeout: float = 600.0,
        negative_prompt: str | None = None,
    ) -> None:
        if max_duration <= 0:
            raise ValueError("max_duration must be > 0")
        self.client = client
        self.template = template
        self.max_duration = max_duration
        self.timeout = timeout
        self.negative_prompt = (negative_prompt if negative_prompt is not None
                                else template.negative_prompt or DEFAULT_NEGATIVE_PROMPT)
        self._conform = conform if conform is not None else _default_conform()
        self._slots = threading.BoundedSemaphore(max(1, concurrency))

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
        """Readiness: the server answers and has every node class of the template."""
        self.client.system_stats()
        self.client.check_nodes(self.template.class_types, self.template.name)

    # --------------------------------------------------------------- render
    def render(self, request: ClipRequest, output_path: Path, *, progress: Progress | None = None,
               cancel: CancelToken | None = None) -> RenderedClip:
        """Render ``request`` into ``output_path`` (see :class:`~videogen_core.ClipRenderer`)."""
        segments = self.plan(request)
        image = prepare_image(request.image_path, request.scene_number)
        image = frame_png(image, (request.settings.width, request.settings.height), request.focus)
        if cancel is not None:
            cancel.raise_if_cancelled()
        best = [0.0]
        output_path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".comfyui-", dir=output_path.parent) as tmp:
            work = Path(tmp)
            joined = work / "joined.mkv"
            with FrameJoiner(joined, self.generation_fps(request)) as joiner:
                for segment in segments:
                    def report(fraction: float, k: int = segment.index) -> None:
                        # monotonic even when several nodes report steps in turn
                        value = 0.95 * (k + fraction) / len(segments)
                        if progress is not None and value > best[0]:
                            best[0] = value
                            progress(value)
                    files = self._run_segment(request, segment, image, work, report, cancel)
                    image = self._append(joiner, files, segment)
            clip = self._conform(joined, request, output_path, cancel=cancel)
        if progress is not None:
            progress(1.0)
        return clip

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
                     report: Progress, cancel: CancelToken | None) -> list[Path]:
        name = self.client.upload_image(image, cancel=cancel)
        graph = self.template.bind(self.values(request, segment, name))
        with self._slots:
            result = self.client.run(graph, progress=report, cancel=cancel, timeout=self.timeout)
        picked = pick_outputs(result.outputs, self.template.output_node)
        if not picked:
            raise RenderFailed("comfyui output", "the workflow finished without a video or image "
                               "output", prompt_id=result.prompt_id, outputs=result.outputs)
        if len(picked) > 1:  # a still sequence: fetch only the frames the clip keeps
            picked = picked[:segment.keep]
        paths = []
        for i, item in enumerate(picked):
            paths.append(self.client.download(
                item, work / f"seg{segment.index:03d}_{i:05d}{item.suffix or '.bin'}"))
        report(1.0)
        return paths
