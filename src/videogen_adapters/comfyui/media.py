"""Frames in and out: decode whatever ComfyUI produced, join segments losslessly.

ComfyUI may hand back an MP4/WebM (decoded with PyAV), an animated WebP/PNG
or GIF (decoded with Pillow, which reads animated WebP reliably), or several
PNG stills (a frame sequence). :class:`FrameJoiner` writes the kept frames of
every segment into one lossless FFV1 file at the generation fps; the ffmpeg
layer's ``conform_clip`` then makes the final clip from it.
"""

from __future__ import annotations

import io
from collections.abc import Generator, Sequence
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
from PIL import Image, UnidentifiedImageError

from videogen_core import InvalidImage, RenderFailed

__all__ = ["FrameJoiner", "frame_crop", "frame_png", "iter_frames", "png_bytes",
           "prepare_image"]

_PIL_SUFFIXES = {".png", ".apng", ".webp", ".gif", ".jpg", ".jpeg"}


def prepare_image(path: Path, scene_number: int | None = None) -> bytes:
    """The scene image as PNG bytes: EXIF orientation applied, RGB (for ``/upload/image``);
    decoded through the bounded decoder (never more than its pixel budget in memory)."""
    from videogen_adapters.ffmpeg.images import load_image

    try:
        image = load_image(Path(path))
    except InvalidImage as exc:
        raise InvalidImage(exc.details["file"], exc.details["reason"], scene_number) from exc
    try:
        return png_bytes(image)
    finally:
        image.close()


def png_bytes(image: Image.Image) -> bytes:
    """Encode an image as PNG."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _pil_frames(path: Path) -> Generator[Image.Image, None, None]:
    with Image.open(path) as image:
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            yield image.convert("RGB")


def _av_frames(path: Path) -> Generator[Image.Image, None, None]:
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            yield frame.to_image()  # type: ignore[no-untyped-call]


def iter_frames(paths: Sequence[Path]) -> Generator[Image.Image, None, None]:
    """Every frame of the files in order, as RGB images (a list of stills is a sequence)."""
    for path in paths:
        try:
            if path.suffix.lower() in _PIL_SUFFIXES:
                yield from _pil_frames(path)
            else:
                yield from _av_frames(path)
        except (OSError, av.FFmpegError, UnidentifiedImageError) as exc:
            raise RenderFailed("comfyui output", f"cannot decode {path.name}: {exc}",
                               file=path.name) from exc


class FrameJoiner:
    """Writes frames to a lossless FFV1/Matroska file; remembers the last frame written."""

    def __init__(self, path: Path, fps: float) -> None:
        self.path = path
        self.rate = Fraction(fps).limit_denominator(1001)
        self.count = 0
        self.last: Image.Image | None = None
        self._container: av.container.OutputContainer | None = None
        self._stream: av.video.stream.VideoStream | None = None
        self._size: tuple[int, int] | None = None

    def __enter__(self) -> FrameJoiner:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def write(self, image: Image.Image) -> None:
        """Append one frame (resized to the first frame's size if it differs)."""
        if self._container is None:
            self._size = image.size
            self._container = av.open(str(self.path), mode="w", format="matroska")
            self._stream = self._container.add_stream("ffv1", rate=self.rate)
            self._stream.width, self._stream.height = image.size
            self._stream.pix_fmt = "bgr0"
        assert self._stream is not None and self._size is not None
        if image.size != self._size:
            image = image.resize(self._size, Image.Resampling.BICUBIC)
        frame = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
        frame.pts = self.count
        frame.time_base = 1 / self.rate
        self._container.mux(self._stream.encode(frame))
        self.count += 1
        self.last = image

    def close(self) -> None:
        """Flush and close the file (idempotent)."""
        if self._container is not None and self._stream is not None:
            self._container.mux(self._stream.encode(None))
            self._container.close()
            self._container = None


def frame_png(data: bytes, aspect: tuple[int, int],
              focus: str | tuple[float, float] = "auto") -> bytes:
    """The scene image (PNG bytes from :func:`prepare_image`) cropped to the clip's
    aspect by the Ken Burns framing rules — the crop keeps the subject of ``focus``
    (see :mod:`videogen_adapters.framing`) — so the model, which centre-crops its
    input to the generation size, starts from the framed picture. Unchanged when
    the aspects already agree."""
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        if abs(width * aspect[1] - height * aspect[0]) <= max(aspect):  # equal, rounded
            return data
        return png_bytes(frame_crop(image.convert("RGB"), aspect, focus))


def frame_crop(image: Image.Image, aspect: tuple[int, int],
               focus: str | tuple[float, float] = "auto") -> Image.Image:
    """The largest crop of ``image`` in the aspect of ``aspect``, placed on the
    subject of ``focus`` (centred without one); no resampling."""
    from videogen_adapters.framing import cover_crop, resolve_focus
    from videogen_adapters.framing.geometry import FACE_MARGIN, padded

    subject = resolve_focus(focus, image)
    box = None
    if subject is not None:
        box = padded(subject.box, FACE_MARGIN) if subject.kind == "faces" else subject.box
    cx, cy = cover_crop(image.size, aspect, box)
    ratio = aspect[0] / aspect[1]
    width = min(image.width, max(1, round(image.height * ratio)))
    height = min(image.height, max(1, round(image.width / ratio)))
    left = round((image.width - width) * cx)
    top = round((image.height - height) * cy)
    return image.crop((left, top, left + width, top + height))
