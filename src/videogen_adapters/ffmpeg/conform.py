"""Conforming any moving source into a clip exactly like the Ken Burns renderer's.

:func:`conform_clip` takes a video (mp4, webm, mov...), an animated image (GIF,
animated WebP, APNG) or a list of still frames (PNG...) and writes a clip with
exactly ``request.frames`` frames at ``request.settings`` (size by cover-crop
— placed on the subject of ``request.focus`` when the source's aspect differs,
by the Ken Burns framing rules — or blurred contain, fps, libx264, yuv420p,
crf, preset) and an IDR frame at every ``request.cut_frames`` index.
``lossless=True`` encodes the same frames losslessly and fast instead (x264
``crf 0``, ``ultrafast``): an intermediate that the muxer decodes frame for frame
into its one encode (:class:`~.stream.FileFrameSource`), so the final settings'
loss is applied once (the ComfyUI renderer's clips).

Frame-rate conversion picks, for every output frame at ``k/fps``, the source
frame showing at that time (nearest-preceding, with half an output frame of
tolerance). When the source is **shorter** than the clip the policy is
``shorter="hold"`` (default): the motion keeps its natural speed and the last
frame is held — generative renderers chain segments for long scenes, so holds
are short and nothing ever looks slowed down. ``shorter="stretch"`` instead
slows the source down evenly to fill the clip. A longer source is cut at the
clip's end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import attrs
from PIL import Image, ImageSequence

from videogen_core.errors import InvalidImage, RenderFailed
from videogen_core.ports import ClipRequest, RenderedClip
from videogen_core.progress import CancelToken

from .encode import encode_frames
from .images import fit_frame, load_image, yuv_planes
from .runner import FfmpegRunner

__all__ = ["conform_clip", "conformed_frames", "source_frames"]

_ANIMATED = {".gif", ".webp", ".png", ".apng"}
Timed = tuple[float, Image.Image]


def source_frames(source: Path | Sequence[Path], *, source_fps: float | None = None,
                  fallback_fps: float = 24.0) -> Iterator[Timed]:
    """Frames of ``source`` with their display times in seconds (first at 0)."""
    if not isinstance(source, str | Path):
        rate = source_fps or fallback_fps
        for index, path in enumerate(source):
            yield index / rate, load_image(Path(path))
        return
    path = Path(source)
    if not path.exists():
        raise InvalidImage(path.name, "the file does not exist")
    if path.suffix.lower() in _ANIMATED:
        yield from _pillow_frames(path, source_fps)
    else:
        yield from _av_frames(path, source_fps)


def _pillow_frames(path: Path, source_fps: float | None) -> Iterator[Timed]:
    try:
        with Image.open(path) as im:
            t = 0.0
            for frame in ImageSequence.Iterator(im):
                rgb = frame.convert("RGBA") if frame.mode in ("P", "RGBA", "LA") else frame
                yield t, rgb.convert("RGB")
                shown = (frame.info.get("duration") or 100) / 1000
                step = 1.0 / source_fps if source_fps else shown
                t += max(step, 1e-3)
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidImage(path.name, f"unreadable animation ({exc})") from exc


def _av_frames(path: Path, source_fps: float | None) -> Iterator[Timed]:
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            start: float | None = None
            for index, frame in enumerate(container.decode(stream)):
                if source_fps:
                    t = index / source_fps
                else:
                    t = float(frame.time) if frame.time is not None else index / float(
                        stream.average_rate or 24)
                start = t if start is None else start
                yield t - start, frame.to_image()
    except (av.error.FFmpegError, IndexError) as exc:
        raise RenderFailed("conform", f"cannot decode {path.name}: {exc}", file=str(path)) \
            from exc


def _schedule(frames: Iterator[Timed], count: int, fps: int, scale: float) -> Iterator[Image.Image]:
    """Pick the source frame for each of ``count`` output frames (hold the last)."""
    tolerance = 0.5 / fps
    current: Timed | None = None
    upcoming = next(frames, None)
    if upcoming is None:
        raise RenderFailed("conform", "the source has no frames")
    for k in range(count):
        t = k / fps
        while upcoming is not None and upcoming[0] * scale <= t + tolerance:
            current, upcoming = upcoming, next(frames, None)
        assert current is not None or upcoming is not None
        yield (current or upcoming)[1]  # type: ignore[index]


def _duration(source: Path | Sequence[Path], source_fps: float | None, fps: int) -> float:
    last = 0.0
    step = 1.0 / (source_fps or fps)
    for t, image in source_frames(source, source_fps=source_fps, fallback_fps=fps):
        last = t
        image.close()
    return last + step


def conform_clip(
    source: Path | Sequence[Path],
    request: ClipRequest,
    output_path: Path,
    *,
    cancel: CancelToken | None = None,
    progress: Callable[[float], None] | None = None,
    runner: FfmpegRunner | None = None,
    fit: str = "cover",
    shorter: str = "hold",
    source_fps: float | None = None,
    lossless: bool = False,
) -> RenderedClip:
    """Write ``source`` as a clip matching ``request`` exactly (see module docstring)."""
    if shorter not in ("hold", "stretch"):
        raise ValueError("shorter must be 'hold' or 'stretch'")
    runner = runner or FfmpegRunner()
    settings = request.settings
    encoding = attrs.evolve(settings, crf=0, preset="ultrafast") if lossless else settings
    count = request.frames
    frames = conformed_frames(source, request, fit=fit, shorter=shorter, source_fps=source_fps)
    encode_frames(runner, frames, Path(output_path), encoding, count,
                  cut_frames=request.cut_frames, stage="conform", progress=progress,
                  cancel=cancel)
    return RenderedClip(Path(output_path), count, count / settings.fps)


def conformed_frames(
    source: Path | Sequence[Path],
    request: ClipRequest,
    *,
    fit: str = "cover",
    shorter: str = "hold",
    source_fps: float | None = None,
) -> Iterator[bytes]:
    """``request.frames`` raw ``yuv420p`` frames of ``source`` fitted to
    ``request.settings`` (what :func:`conform_clip` encodes), produced lazily."""
    if shorter not in ("hold", "stretch"):
        raise ValueError("shorter must be 'hold' or 'stretch'")
    settings = request.settings
    count = request.frames
    scale = 1.0
    if shorter == "stretch":
        length = _duration(source, source_fps, settings.fps)
        scale = max(1.0, count / settings.fps / length) if length > 0 else 1.0
    timed = source_frames(source, source_fps=source_fps, fallback_fps=settings.fps)
    last_image: Image.Image | None = None
    last_bytes = b""
    centering: tuple[float, float] | None = None
    for image in _schedule(timed, count, settings.fps, scale):
        if centering is None:  # the framing rules, decided once on the first frame
            centering = _centering(image, request, fit)
        if image is not last_image:  # held frames are converted once
            fitted = fit_frame(image, settings.width, settings.height, fit,
                               centering=centering)
            last_bytes = b"".join(p.tobytes() for p in yuv_planes(fitted))
            last_image = image
        yield last_bytes


def _centering(image: Image.Image, request: ClipRequest, fit: str) -> tuple[float, float]:
    """Where the cover crop sits when the source's aspect is not the clip's (a model's
    native size): on the subject of the request's ``focus`` in the first frame, as the
    Ken Burns renderer frames its stills; centred when the aspects agree."""
    width, height = request.settings.width, request.settings.height
    if fit != "cover" or abs(image.width * height - image.height * width) <= max(
            image.width, image.height, width, height):  # equal up to rounding
        return (0.5, 0.5)
    from videogen_adapters.framing import cover_crop, resolve_focus
    from videogen_adapters.framing.geometry import FACE_MARGIN, padded

    subject = resolve_focus(request.focus, image.convert("RGB"))
    if subject is None:
        return (0.5, 0.5)
    box = padded(subject.box, FACE_MARGIN) if subject.kind == "faces" else subject.box
    return cover_crop(image.size, (width, height), box)
