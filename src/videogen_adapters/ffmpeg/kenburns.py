"""The Ken Burns clip renderer: one still image → one smoothly moving clip.

How a clip is made:

1. :func:`~videogen_adapters.ffmpeg.images.load_image` normalises the image;
   its subject is found once (the scene's ``focus``: detected faces or
   saliency, an author's point, or none — :mod:`videogen_adapters.framing`);
   it is fitted to the output aspect (cover-crop placed to keep the subject,
   or blurred contain) and pre-scaled once so that the widest window of the
   move maps 1:1 onto the output (the move only ever magnifies: no aliasing,
   and no per-frame work at the photo's full resolution). The camera path is
   planned around the subject (:func:`~videogen_adapters.ffmpeg.camera.plan_camera`).
2. The source is converted once to BT.709 Y/Cb/Cr planes.
3. Per frame, :class:`~videogen_adapters.ffmpeg.camera.CameraPath` gives the
   window in floating point and it is resampled, sub-pixel exact (no
   whole-pixel rounding, unlike ffmpeg's zoompan), straight into ``yuv420p``
   planes: separable bilinear by default (the move only magnifies, by at most
   ~1.4x, where bilinear is close to bicubic), computed with whole-array numpy
   operations (:mod:`~videogen_adapters.ffmpeg.resample`, 2-2.7x faster than
   Pillow's per-pixel loop); other filters or ``oversample`` > 1 use Pillow's
   ``resize`` with a fractional ``box``.
4. Frames are produced one step ahead on a helper thread and either piped to
   ffmpeg/libx264 with the final settings and an IDR frame at every cut frame
   (:meth:`KenBurnsClipRenderer.render`, a clip file), or handed to the muxer
   as a :class:`KenBurnsFrameSource` (:meth:`KenBurnsClipRenderer.stream`) so
   that the whole video is encoded in one go.

Memory is a few frames, whatever the clip's length.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import numpy as np
from PIL import Image

from videogen_adapters.framing import Subject, cover_crop, frame_box, resolve_focus
from videogen_adapters.framing.geometry import FACE_MARGIN, Box, padded
from videogen_adapters.framing.subject import DETECT_SIZE
from videogen_core.errors import Cancelled, InvalidImage
from videogen_core.model import VideoSettings
from videogen_core.motion import validate_clip_action
from videogen_core.ports import ClipRequest, RenderedClip
from videogen_core.progress import CancelToken

from . import resample
from .camera import CameraPath, plan_camera
from .encode import encode_frames, prefetch
from .images import fit_frame, load_image, yuv_planes
from .runner import FfmpegRunner

__all__ = ["Framing", "KenBurnsClipRenderer", "generate_video"]

Planes = tuple[Image.Image, Image.Image, Image.Image]
_FIND = object()  # "find the subject" (None means: there is none)

log = logging.getLogger(__name__)

_RESAMPLE = {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR,
             "lanczos": Image.Resampling.LANCZOS}


class KenBurnsClipRenderer:
    """``ClipRenderer`` that animates a still with zooms and pans (the default renderer).

    ``fit`` is ``"cover"`` (crop to the output aspect) or ``"contain"`` (whole
    image over a blurred copy); ``resample`` the per-frame filter; ``oversample``
    > 1 keeps more source detail for deep zooms at some speed cost.
    """

    name = "kenburns"
    #: part of the clip cache key: 2 = subject-aware framing
    version = 2

    def __init__(
        self,
        *,
        runner: FfmpegRunner | None = None,
        fit: str = "cover",
        resample: str = "bilinear",
        oversample: float = 1.0,
        max_pixels: int | None = None,
    ) -> None:
        if resample not in _RESAMPLE:
            raise ValueError(f"resample must be one of {sorted(_RESAMPLE)}")
        self.runner = runner or FfmpegRunner()
        self.fit = fit
        self.resample = _RESAMPLE[resample]
        self.oversample = max(1.0, oversample)
        self.max_pixels = max_pixels
        #: the rest of what decides the frames, for cache keys (chunks, clips)
        self.cache_token = f"fit={fit}:resample={resample}:oversample={self.oversample}"

    def render(
        self,
        request: ClipRequest,
        output_path: Path,
        *,
        progress: Callable[[float], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> RenderedClip:
        """Render ``request`` to ``output_path`` (atomically); see the module docstring."""
        if cancel is not None:
            cancel.raise_if_cancelled()
        settings = request.settings
        count = request.frames
        planes, framing = self.prepare(request)
        frames = self.frames(request.image_path, framing.path, settings, count,
                             scene_number=request.scene_number or None, planes=planes)
        encode_frames(self.runner, frames, Path(output_path), settings, count,
                      cut_frames=request.cut_frames, stage="render", progress=progress,
                      cancel=cancel)
        return RenderedClip(Path(output_path), count, count / settings.fps)

    @property
    def vectorised(self) -> bool:
        """Whether frames use numpy's bilinear (:mod:`.resample`): the default filter
        without oversampling, where the move only magnifies."""
        return self.resample == Image.Resampling.BILINEAR and self.oversample == 1.0

    def stream(self, request: ClipRequest) -> KenBurnsFrameSource:
        """The clip's frames as a lazy :class:`~videogen_core.ports.FrameSource` for a
        muxer that encodes the whole video in one go. The image is checked now (a
        reduced-scale decode) and its subject found on that small copy — here, while
        the music is composed, not on the encoder's path; the image is loaded at
        full size when the muxer gets to the scene."""
        with _scene_error(request.scene_number or None):
            image = load_image(Path(request.image_path), max_pixels=self.max_pixels,
                               min_size=(DETECT_SIZE, DETECT_SIZE))
        try:
            subject = resolve_focus(request.focus, image)
        finally:
            image.close()
        return KenBurnsFrameSource(self, request, subject=subject)

    def _source_size(self, path: CameraPath, settings: VideoSettings) -> tuple[int, int]:
        scale = path.min_zoom * self.oversample
        return (max(settings.width, round(settings.width * scale)),
                max(settings.height, round(settings.height * scale)))

    def framing(self, request: ClipRequest, image: Image.Image,
                subject: Subject | object | None = _FIND) -> Framing:
        """Where the subject of ``image`` is (found unless ``subject`` is given) and how
        the crop and camera frame it (the request's ``focus``; no subject: the centred
        crop and the seed's path, as before)."""
        settings = request.settings
        size = (settings.width, settings.height)
        if subject is _FIND:
            subject = resolve_focus(request.focus, image)
        if not isinstance(subject, Subject):
            return Framing(plan_camera(request.clip_action, request.seed))
        box = padded(subject.box, FACE_MARGIN) if subject.kind == "faces" else subject.box
        centering = cover_crop(image.size, size, box) if self.fit == "cover" else (0.5, 0.5)
        in_frame = frame_box(box, image.size, size, self.fit, centering)
        path = plan_camera(request.clip_action, request.seed, subject=in_frame)
        if box != subject.box:
            # the margin around a face is a preference: when it would stop most of the
            # asked-for movement (a face near an edge), keep only the face itself whole
            asked = _motion(plan_camera(request.clip_action, request.seed))
            if _motion(path) < 0.5 * asked:
                tight = frame_box(subject.box, image.size, size, self.fit, centering)
                alternative = plan_camera(request.clip_action, request.seed, subject=tight)
                if _motion(alternative) > _motion(path):
                    path, in_frame = alternative, tight
        return Framing(path, centering, subject, in_frame)

    def prepare(self, request: ClipRequest,
                subject: Subject | object | None = _FIND) -> tuple[Planes, Framing]:
        """Decode the image once, frame it (:meth:`framing`; the ``subject`` when it is
        already known), fit and pre-scale it for the framed camera path: the Y/Cb/Cr
        planes and the framing."""
        settings = request.settings
        # framing never widens the widest window, so this decode is large enough
        need = self._source_size(plan_camera(request.clip_action, request.seed), settings)
        with _scene_error(request.scene_number or None):
            image = load_image(Path(request.image_path), max_pixels=self.max_pixels,
                               min_size=need)
        try:
            framing = self.framing(request, image, subject)
            src_w, src_h = self._source_size(framing.path, settings)
            fitted = fit_frame(image, src_w, src_h, self.fit, centering=framing.centering)
        finally:
            image.close()
        planes = yuv_planes(fitted)
        fitted.close()
        return planes, framing

    def planes(
        self, image_path: Path, path: CameraPath, settings: VideoSettings,
        *, scene_number: int | None = None,
    ) -> Planes:
        """The image fitted (centred) and pre-scaled for ``path``, as Y/Cb/Cr planes."""
        src_w, src_h = self._source_size(path, settings)
        with _scene_error(scene_number):
            image = load_image(Path(image_path), max_pixels=self.max_pixels,
                               min_size=(src_w, src_h))
        fitted = fit_frame(image, src_w, src_h, self.fit)
        image.close()
        planes = yuv_planes(fitted)
        fitted.close()
        return planes

    def frames(
        self, image_path: Path, path: CameraPath, settings: VideoSettings, count: int,
        *, scene_number: int | None = None,
        planes: tuple[Image.Image, Image.Image, Image.Image] | None = None,
        start: int = 0,
    ) -> Iterator[bytes]:
        """The clip's ``count`` raw ``yuv420p`` frames, produced lazily (from frame
        ``start`` on: each frame is computed on its own, a chunk starts anywhere)."""
        width, height = settings.width, settings.height
        if planes is None:
            planes = self.planes(image_path, path, settings, scene_number=scene_number)
        sizes = [(width, height), ((width + 1) // 2, (height + 1) // 2),
                 ((width + 1) // 2, (height + 1) // 2)]

        def boxes(plane: Image.Image, progress: float) -> tuple[float, float, float, float]:
            left, top, w, h = path.window(progress)
            pw, ph = plane.size
            return (max(0.0, left * pw), max(0.0, top * ph),
                    min(float(pw), (left + w) * pw), min(float(ph), (top + h) * ph))

        # A pan at a constant zoom keeps one axis of the window fixed: resample that
        # axis once per clip, then each frame needs only the other (moving) axis —
        # the same separable filter, at half the per-frame cost.
        fixed_y = path.zoom[0] == path.zoom[1] and path.sy[0] == path.sy[1]
        fixed_x = path.zoom[0] == path.zoom[1] and path.sx[0] == path.sx[1]
        strips: list[Image.Image] = list(planes)
        if fixed_y or fixed_x:
            strips = []
            for plane, (sw, sh) in zip(planes, sizes, strict=True):
                x0, y0, x1, y1 = boxes(plane, 0.0)
                pw, ph = plane.size
                if fixed_y:
                    strips.append(plane.resize((pw, sh), self.resample, box=(0, y0, pw, y1)))
                else:
                    strips.append(plane.resize((sw, ph), self.resample, box=(x0, 0, x1, ph)))

        samplers = [self._sampler(strip, size, fixed_x, fixed_y)
                    for strip, size in zip(strips, sizes, strict=True)]

        def frame(index: int) -> bytes:
            progress = index / (count - 1) if count > 1 else 0.0
            return b"".join([sample(boxes(plane, progress))
                             for plane, sample in zip(planes, samplers, strict=True)])

        if path.static:
            still = frame(0)
            return iter([still] * (count - start))
        return prefetch((lambda i=i: frame(i)) for i in range(start, count))

    def _sampler(
        self, strip: Image.Image, size: tuple[int, int], fixed_x: bool, fixed_y: bool,
    ) -> Callable[[tuple[float, float, float, float]], bytes | memoryview]:
        """One plane's per-frame resampler: window box (in the plane's pixels) →
        the plane at ``size``. ``strip`` is the plane, or its fixed axis already
        resampled (a pan: ``fixed_y`` moves across, ``fixed_x`` moves down)."""
        width, height = size
        if self.vectorised:
            if fixed_x and not fixed_y:
                rows = np.asarray(strip)
                return lambda box: resample.resize_y(rows, box[1], box[3], height).data
            columns = resample.transposed(np.asarray(strip))
            if fixed_y:
                return lambda box: resample.resize_x(columns, box[0], box[2], width).data
            return lambda box: resample.resize(columns, box, size).data

        def pillow(box: tuple[float, float, float, float]) -> bytes:
            x0, y0, x1, y1 = box
            if fixed_y:
                y0, y1 = 0.0, float(height)
            elif fixed_x:
                x0, x1 = 0.0, float(width)
            return strip.resize(size, self.resample, box=(x0, y0, x1, y1)).tobytes()

        return pillow


def _motion(path: CameraPath) -> float:
    """How far a path moves: the largest change of the window's centre or size."""
    a, b = path.window(0.0), path.window(1.0)
    return max(abs((a[0] + a[2] / 2) - (b[0] + b[2] / 2)),
               abs((a[1] + a[3] / 2) - (b[1] + b[3] / 2)), abs(a[2] - b[2]))


@contextlib.contextmanager
def _scene_error(scene_number: int | None) -> Iterator[None]:
    """Re-raise InvalidImage with the scene number attached."""
    try:
        yield
    except InvalidImage as exc:
        if scene_number is not None and exc.details.get("scene_number") is None:
            raise InvalidImage(exc.details["file"], exc.details["reason"],
                               scene_number) from exc
        raise


@attrs.frozen
class Framing:
    """How one clip frames its image: the camera ``path``, the cover crop's
    ``centering`` (``ImageOps.fit``), the ``subject`` found (None: centred, as
    before) and its box in the fitted frame's fractions."""

    path: CameraPath
    centering: tuple[float, float] = (0.5, 0.5)
    subject: Subject | None = None
    box: Box | None = None


class KenBurnsFrameSource:
    """One Ken Burns clip as a :class:`~videogen_core.ports.FrameSource`.

    :meth:`prepare` (the muxer calls it a scene ahead, on a helper thread)
    decodes and pre-scales the image; :meth:`open` streams the frames and drops
    the planes afterwards, so a long video holds at most a couple of images.
    """

    def __init__(self, renderer: KenBurnsClipRenderer, request: ClipRequest,
                 *, subject: Subject | object | None = _FIND) -> None:
        self.renderer = renderer
        self.request = request
        self.subject = subject  # found by stream(), else when prepared
        #: the subject and the camera path, known once :meth:`prepare` has run
        self.framing: Framing | None = None
        self._planes: Planes | None = None
        self._lock = threading.Lock()

    @property
    def frame_count(self) -> int:
        """Frames of the clip (the request's exact count)."""
        return self.request.frames

    def prepare(self) -> None:
        """Decode, frame, fit and pre-scale the image (once; the subject is found here,
        a scene ahead, off the encoder's path)."""
        with self._lock:
            if self._planes is None:
                # prepared again (a chunked video opens a scene once per chunk it is
                # in): the subject found the first time is not searched for again
                subject = self.framing.subject if self.framing is not None else self.subject
                self._planes, self.framing = self.renderer.prepare(self.request, subject)

    def open(self) -> Iterator[bytes]:
        """The clip's raw ``yuv420p`` frames."""
        return self.open_at(0)

    def open_at(self, start: int) -> Iterator[bytes]:
        """The clip's raw ``yuv420p`` frames from frame ``start`` on (one chunk's part)."""
        self.prepare()
        with self._lock:
            planes, self._planes = self._planes, None
        assert self.framing is not None
        r = self.request
        return self.renderer.frames(r.image_path, self.framing.path, r.settings, r.frames,
                                    scene_number=r.scene_number or None, planes=planes,
                                    start=start)

    def __repr__(self) -> str:
        return (f"KenBurnsFrameSource(scene={self.request.scene_number}, "
                f"frames={self.frame_count}, image={Path(self.request.image_path).name!r})")


def generate_video(
    image_path: str | Path,
    output_path: str | Path,
    clip_duration: float,
    clip_action: str,
    seed: int,
) -> bool:
    """Seed-compatible: render one Ken Burns clip with the default settings.

    The clip action is limited by the default movement rule first. Returns True
    on success; on any failure logs the error and returns False (never raises).
    """
    try:
        action = validate_clip_action(str(clip_action), float(clip_duration))
        request = ClipRequest(Path(image_path), float(clip_duration), action, int(seed))
        KenBurnsClipRenderer().render(request, Path(output_path))
        return True
    except Cancelled:
        log.warning("generate_video(%s) was cancelled", image_path)
        return False
    except Exception:
        log.exception("generate_video(%s -> %s) failed", image_path, output_path)
        return False
