"""Finding the subject of a photo, offline on the CPU, once per image.

:func:`detect_subject` looks at a small copy of the photo (about
:data:`DETECT_SIZE` x 240 px worth of pixels, a box-filtered reduction):

1. **Faces first** — OpenCV's frontal-face Haar cascade (bundled with
   ``opencv-python-headless`` < 5). Faces much smaller than the largest one are
   dropped (a stray false hit must not stretch the group), the rest are framed
   as one group: the union of their boxes.
2. **Otherwise saliency** — the spectral residual of Hou & Zhang (2007) on a
   64-pixel-wide copy, in numpy: the log-amplitude spectrum minus its local
   mean, back-transformed with the original phase, squared and blurred. When
   that map concentrates its mass in a compact region, the region (the middle
   60 % of the mass on each axis) is the subject.
3. **Otherwise none**: the caller keeps today's centred framing.

:func:`resolve_focus` applies a scene's ``focus`` (``"auto"``, ``"center"`` or an
author's ``(x, y)`` point). Boxes are in 0–1 image coordinates ``(x0, y0, x1,
y1)``. Everything is deterministic.
"""

from __future__ import annotations

import threading
from typing import Any

import attrs
import numpy as np
from PIL import Image

__all__ = ["DETECT_SIZE", "Subject", "detect_faces", "detect_subject", "resolve_focus",
           "saliency_map", "saliency_subject", "small_gray"]

#: the copy faces are searched on holds DETECT_SIZE x DETECT_SIZE·3/4 pixels (320x240
#: for a 4:3 photo): the cascade's 24-px window finds faces from ~7.5 % of a 4:3
#: photo's width up, in ~30 ms of CPU (a 12-megapixel photo: ~8 ms to reduce, ~28 ms
#: to search; 384 px cost ~40 ms)
DETECT_SIZE = 320
_MIN_FACE = 24  # px on the detection copy: the cascade's own window
_FACE_AREA_SHARE = 0.25  # faces smaller than this share of the largest are dropped
_SALIENCY_WIDTH = 64
_SALIENCY_MASS = (0.2, 0.8)  # the subject box spans these quantiles of the mass per axis
_SALIENCY_MAX_AREA = 0.3  # a "subject" box larger than this share of the image is none
_SALIENCY_MIN_GAIN = 1.6  # mass share in the box / area share of the box

_local = threading.local()
#: OpenCV's package bootstrap is not safe when two threads import it at once (one
#: sees a half-made ``cv2`` without ``cv2.data``): first import under a lock
_cv2_import = threading.Lock()


@attrs.frozen
class Subject:
    """What the camera keeps in frame: a box in 0–1 image coordinates and where it
    came from (``"faces"``, ``"saliency"`` or ``"point"``, an author's focus)."""

    box: tuple[float, float, float, float]
    kind: str

    @property
    def centre(self) -> tuple[float, float]:
        """The box's centre."""
        x0, y0, x1, y1 = self.box
        return (x0 + x1) / 2.0, (y0 + y1) / 2.0


def _cascade() -> Any:
    """The frontal-face cascade, one per thread (OpenCV's classifier keeps scratch
    state, so threads do not share one)."""
    cascade = getattr(_local, "cascade", None)
    if cascade is None:
        with _cv2_import:
            import cv2

        cascade = cv2.CascadeClassifier(cv2.data.haarcascades
                                        + "haarcascade_frontalface_default.xml")
        if cascade.empty():  # pragma: no cover - a broken opencv install
            raise RuntimeError("OpenCV's haarcascade_frontalface_default.xml did not load")
        _local.cascade = cascade
    return cascade


def small_gray(image: Image.Image, size: int = DETECT_SIZE) -> np.ndarray:
    """``image`` as 8-bit gray in about ``size`` x ``size·3/4`` pixels (the same pixel
    budget whatever the shape, so a panorama's faces are not squeezed), never
    enlarged; a box-filtered reduction — the full-size photo is never converted."""
    budget = size * size * 3 / 4
    scale = min(1.0, (budget / (image.width * image.height)) ** 0.5)
    target = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    factor = int(1.0 / scale) if scale < 1.0 else 1
    small = image.reduce(factor) if factor > 1 else image
    if small.size != target:
        small = small.resize(target, Image.Resampling.BOX)
    return np.asarray(small.convert("L"))


def detect_faces(image: Image.Image | np.ndarray) -> list[tuple[float, float, float, float]]:
    """Frontal faces as 0–1 boxes, largest first (sizeable ones only, see module doc).
    ``image`` may also be the gray detection copy (:func:`small_gray`)."""
    gray = image if isinstance(image, np.ndarray) else small_gray(image)
    h, w = gray.shape
    if min(h, w) < _MIN_FACE:
        return []
    found = _cascade().detectMultiScale(gray, scaleFactor=1.15, minNeighbors=4,
                                        minSize=(_MIN_FACE, _MIN_FACE))
    boxes = sorted(((int(x), int(y), int(bw), int(bh)) for x, y, bw, bh in found),
                   key=lambda b: (-b[2] * b[3], b[0], b[1]))
    if not boxes:
        return []
    largest = boxes[0][2] * boxes[0][3]
    return [(x / w, y / h, (x + bw) / w, (y + bh) / h) for x, y, bw, bh in boxes
            if bw * bh >= _FACE_AREA_SHARE * largest]


def _blur(values: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur with edge replication."""
    radius = max(1, int(3 * sigma))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * (x / sigma) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(values, radius, mode="edge")
    rows = np.apply_along_axis(np.convolve, 1, padded, kernel, mode="valid")
    return np.apply_along_axis(np.convolve, 0, rows, kernel, mode="valid")


def saliency_map(image: Image.Image | np.ndarray) -> np.ndarray:
    """The spectral-residual saliency of ``image`` (or of a gray copy) on a copy
    64 px on its long side (sums to 1)."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    gray = small_gray(image, _SALIENCY_WIDTH).astype(np.float64)
    spectrum = np.fft.fft2(gray)
    amplitude = np.log(np.abs(spectrum) + 1e-9)
    residual = amplitude - _blur(amplitude, 1.0)  # ≈ the local mean of the log spectrum
    saliency = np.abs(np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))) ** 2
    saliency = _blur(saliency, max(1.0, gray.shape[1] / 24))
    total = saliency.sum()
    return saliency / total if total > 0 else np.full_like(saliency, 1.0 / saliency.size)


def saliency_subject(image: Image.Image | np.ndarray,
                     ) -> tuple[float, float, float, float] | None:
    """The compact salient region as a 0–1 box, or None when saliency is spread out."""
    gray = image if isinstance(image, np.ndarray) else small_gray(image)
    if float(gray.std()) < 1.0:
        return None  # a flat picture has no subject (its map would be rounding noise)
    saliency = saliency_map(gray)
    h, w = saliency.shape
    lo, hi = _SALIENCY_MASS

    def span(marginal: np.ndarray) -> tuple[float, float]:
        cumulative = np.cumsum(marginal)
        first = int(np.searchsorted(cumulative, lo))
        last = int(np.searchsorted(cumulative, hi))
        return first / marginal.size, (last + 1) / marginal.size

    x0, x1 = span(saliency.sum(axis=0))
    y0, y1 = span(saliency.sum(axis=1))
    area = (x1 - x0) * (y1 - y0)
    inside = saliency[round(y0 * h):round(y1 * h), round(x0 * w):round(x1 * w)].sum()
    if area > _SALIENCY_MAX_AREA or inside / max(area, 1e-9) < _SALIENCY_MIN_GAIN:
        return None
    return (x0, y0, min(1.0, x1), min(1.0, y1))


def detect_subject(image: Image.Image) -> Subject | None:
    """The photo's subject: the group of faces, else a compact salient region, else None."""
    gray = small_gray(image)
    faces = detect_faces(gray)
    if faces:
        return Subject((min(b[0] for b in faces), min(b[1] for b in faces),
                        max(b[2] for b in faces), max(b[3] for b in faces)), "faces")
    box = saliency_subject(gray)
    return Subject(box, "saliency") if box is not None else None


def resolve_focus(focus: str | tuple[float, float] | list[float],
                  image: Image.Image) -> Subject | None:
    """A scene's ``focus`` as a Subject: ``"auto"`` detects one, ``"center"`` gives None
    (the centred framing), ``(x, y)`` is the author's point."""
    if isinstance(focus, str):
        return detect_subject(image) if focus == "auto" else None
    x, y = (min(1.0, max(0.0, float(v))) for v in focus)
    return Subject((x, y, x, y), "point")
