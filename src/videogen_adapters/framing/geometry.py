"""Framing geometry: the cover crop around a subject, and the subject in the frame.

All boxes are ``(x0, y0, x1, y1)`` fractions. The cover crop keeps the output's
aspect and the largest possible part of the image (as before); only its
position changes: it is placed so the subject box is inside it, as centred as
the image allows. Without a subject it is centred — exactly the old crop.
"""

from __future__ import annotations

__all__ = ["Box", "cover_crop", "frame_box", "padded", "place"]

Box = tuple[float, float, float, float]

#: room kept around a face on every side, as a share of its size (hair, chin)
FACE_MARGIN = 0.2


def padded(box: Box, margin: float) -> Box:
    """``box`` grown by ``margin`` x its size on every side, clipped to 0–1."""
    x0, y0, x1, y1 = box
    dx, dy = (x1 - x0) * margin, (y1 - y0) * margin
    return max(0.0, x0 - dx), max(0.0, y0 - dy), min(1.0, x1 + dx), min(1.0, y1 + dy)


def place(lo: float, hi: float, size: float, extent: float = 1.0) -> float:
    """Start of a span of ``size`` inside ``[0, extent]`` that contains ``[lo, hi]``,
    centred on it as far as the edges allow (centred on it when it is too big)."""
    if size >= extent:
        return 0.0
    start = (lo + hi - size) / 2.0
    if hi - lo <= size:  # the subject fits: keep it whole, and stay in the image
        start = min(max(start, hi - size), lo)
    return min(max(start, 0.0), extent - size)


def cover_crop(image_size: tuple[int, int], out_size: tuple[int, int],
               box: Box | None) -> tuple[float, float]:
    """``ImageOps.fit`` centering ``(cx, cy)`` (0–1) of the cover crop of an image of
    ``image_size`` to the aspect of ``out_size`` that keeps ``box`` in frame
    (``(0.5, 0.5)`` without a box: the centred crop)."""
    if box is None:
        return 0.5, 0.5
    iw, ih = image_size
    ratio = out_size[0] / out_size[1]
    crop_w = min(1.0, ratio * ih / iw)
    crop_h = min(1.0, iw / ratio / ih)
    centering = []
    for lo, hi, size in ((box[0], box[2], crop_w), (box[1], box[3], crop_h)):
        centering.append(place(lo, hi, size) / (1.0 - size) if size < 1.0 else 0.5)
    return centering[0], centering[1]


def frame_box(box: Box, image_size: tuple[int, int], out_size: tuple[int, int],
              fit: str, centering: tuple[float, float] = (0.5, 0.5)) -> Box:
    """``box`` (image fractions) in the fitted frame's fractions: through the cover
    crop at ``centering``, or the ``contain`` letterbox. May reach outside 0–1 when
    the subject does not fit."""
    iw, ih = image_size
    ow, oh = out_size
    if fit == "contain":
        scale = min(ow / iw, oh / ih)
        w, h = iw * scale / ow, ih * scale / oh
        left, top = (1.0 - w) / 2.0, (1.0 - h) / 2.0
        return (left + box[0] * w, top + box[1] * h, left + box[2] * w, top + box[3] * h)
    ratio = ow / oh
    crop_w = min(1.0, ratio * ih / iw)
    crop_h = min(1.0, iw / ratio / ih)
    left = (1.0 - crop_w) * centering[0]
    top = (1.0 - crop_h) * centering[1]
    return ((box[0] - left) / crop_w, (box[1] - top) / crop_h,
            (box[2] - left) / crop_w, (box[3] - top) / crop_h)
