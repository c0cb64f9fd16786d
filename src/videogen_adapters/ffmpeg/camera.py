"""The Ken Burns camera: from a clip action and a seed to a window per frame.

The window is described in fractions of the (cover-fitted) image: a zoom
``z`` ≥ 1 (the window is ``1/z`` of the image on each axis) and, per axis, a
position ``s`` in [-1, 1] inside the slack the zoom leaves (-1 = left/top edge,
+1 = right/bottom edge). Zooming with ``s`` fixed zooms about a fixed image
point, so every window stays inside the image by construction. Pans add a base
zoom that leaves room for the travel. Progress is eased (cosine in-out): the
camera starts and stops without a jerk. Everything is in floating point:
nothing is rounded to whole pixels.

With a ``subject`` box (fractions of the fitted frame; see
:mod:`videogen_adapters.framing`) the same movements are *framed*: a zoom
closes in on the subject (zoom in ends, zoom out starts, on a window centred on
it, never tighter than the subject), a pan ends on the subject and travels no
further than keeps it whole in every frame, and the off-axis position centres
it. Without one, the seed picks the zoom point and the off-axis position, as
before.
"""

from __future__ import annotations

import math
import random

import attrs

from videogen_core.motion import Movement, parse_clip_action

Box = tuple[float, float, float, float]

__all__ = ["Box", "CameraPath", "contains", "plan_camera"]

#: Default amounts at speed "normal" (scaled by ``Movement.factor``).
ZOOM_AMOUNT = 0.20  # zoom in/out changes the zoom by 20 %
PAN_AMOUNT = 0.12  # pans travel 12 % of the image


@attrs.frozen
class CameraPath:
    """Camera from ``start`` to ``end`` state: ``(zoom, s_x, s_y)`` each."""

    zoom: tuple[float, float] = (1.0, 1.0)
    sx: tuple[float, float] = (0.0, 0.0)
    sy: tuple[float, float] = (0.0, 0.0)
    eased: bool = True

    @property
    def static(self) -> bool:
        """True when nothing moves."""
        return self.zoom[0] == self.zoom[1] and self.sx[0] == self.sx[1] and \
            self.sy[0] == self.sy[1]

    @property
    def min_zoom(self) -> float:
        """The widest window's zoom."""
        return min(self.zoom)

    def window(self, progress: float) -> tuple[float, float, float, float]:
        """The window at ``progress`` (0..1) as fractions ``(left, top, width, height)``."""
        p = min(1.0, max(0.0, progress))
        e = (1.0 - math.cos(math.pi * p)) / 2.0 if self.eased else p
        z = self.zoom[0] + (self.zoom[1] - self.zoom[0]) * e
        sx = self.sx[0] + (self.sx[1] - self.sx[0]) * e
        sy = self.sy[0] + (self.sy[1] - self.sy[0]) * e
        size = 1.0 / z
        slack = (1.0 - size) / 2.0
        cx = 0.5 + sx * slack
        cy = 0.5 + sy * slack
        return cx - size / 2.0, cy - size / 2.0, size, size


_PAN = {"pan left": ("x", -1), "pan right": ("x", 1), "pan up": ("y", -1),
        "pan down": ("y", 1), "tilt up": ("y", -1), "tilt down": ("y", 1)}


def plan_camera(
    clip_action: str,
    seed: int,
    *,
    zoom_amount: float = ZOOM_AMOUNT,
    pan_amount: float = PAN_AMOUNT,
    subject: Box | None = None,
) -> CameraPath:
    """The camera path for ``clip_action`` (already limited by the movement rule).

    Zoom in/out and pans combine; speed words scale their amounts; ``static``
    alone holds the full frame. With no movement at all the seed picks a gentle
    zoom in or out. The seed also picks the point a zoom closes in on and the
    off-axis position of a pan — unless a ``subject`` box (frame fractions) is
    given: then the path frames it (see the module docstring).
    """
    rng = random.Random(seed)
    focus_x, focus_y = rng.uniform(-0.6, 0.6), rng.uniform(-0.6, 0.6)
    default_in = rng.random() < 0.5
    movements = [m for m in parse_clip_action(clip_action).movements if m.name != "static"]
    if not movements:
        if any(m.name == "static" for m in parse_clip_action(clip_action).movements):
            return CameraPath()
        movements = [Movement("zoom in" if default_in else "zoom out", "gentle")]
    zoom_delta = 0.0
    travel = {"x": 0.0, "y": 0.0}
    for movement in movements:
        if movement.name in ("zoom in", "zoom out"):
            sign = 1.0 if movement.name == "zoom in" else -1.0
            zoom_delta += sign * zoom_amount * movement.factor
        elif movement.name in _PAN:
            axis, sign = _PAN[movement.name]
            travel[axis] += sign * pan_amount * movement.factor
    for axis in travel:  # at most 90 % of the image can be travelled
        travel[axis] = max(-0.9, min(0.9, travel[axis]))
    base = 1.0 / (1.0 - max(abs(travel["x"]), abs(travel["y"])))
    zooms = (base, base * (1.0 + abs(zoom_delta)))
    if zoom_delta < 0:
        zooms = (zooms[1], zooms[0])
    if subject is not None:
        return _framed(zooms, travel, subject)

    def axis_path(axis: str, focus: float) -> tuple[float, float]:
        t = travel[axis]
        if t == 0.0:
            return (focus, focus)
        # s moves ±1 over the base slack, which is exactly |t| of the image
        extent = abs(t) / max(abs(travel["x"]), abs(travel["y"]))
        return (-extent, extent) if t > 0 else (extent, -extent)

    return CameraPath(zooms, axis_path("x", focus_x), axis_path("y", focus_y))


def _slack(size: float) -> float:
    return (1.0 - size) / 2.0


def _s(centre: float, size: float) -> float:
    """The position ``s`` (-1..1) of a window of ``size`` centred at ``centre``."""
    slack = _slack(size)
    return max(-1.0, min(1.0, (centre - 0.5) / slack)) if slack > 1e-12 else 0.0


def _centres(lo: float, hi: float, size: float) -> tuple[float, float]:
    """The window centres (size ``size``) that keep ``[lo, hi]`` whole and stay in
    the frame; a single centre when the span does not fit."""
    low, high = max(size / 2.0, hi - size / 2.0), min(1.0 - size / 2.0, lo + size / 2.0)
    if low > high:  # too big to keep whole: centre on it, inside the frame
        c = min(max((lo + hi) / 2.0, size / 2.0), 1.0 - size / 2.0)
        return c, c
    return low, high


def contains(path: CameraPath, box: Box, samples: int = 65, tolerance: float = 1e-9) -> bool:
    """Whether every window of ``path`` (at ``samples`` even progress steps) holds ``box``."""
    for k in range(samples):
        left, top, w, h = path.window(k / (samples - 1))
        if (left > box[0] + tolerance or top > box[1] + tolerance
                or left + w < box[2] - tolerance or top + h < box[3] - tolerance):
            return False
    return True


def _framed(zooms: tuple[float, float], travel: dict[str, float], subject: Box) -> CameraPath:
    """The movements of ``zooms``/``travel`` re-aimed at ``subject`` (see module docstring)."""
    box = (max(0.0, subject[0]), max(0.0, subject[1]), min(1.0, subject[2]),
           min(1.0, subject[3]))
    box = (min(box[0], box[2]), min(box[1], box[3]), max(box[0], box[2]), max(box[1], box[3]))
    low, high = min(zooms), max(zooms)
    extent = max(box[2] - box[0], box[3] - box[1])
    if extent > 0.0 and high > 1.0 / extent:  # never closer than the subject is big
        high = max(low, 1.0 / extent)
    zooms = (low, high) if zooms[0] <= zooms[1] else (high, low)
    w_start, w_end = 1.0 / zooms[0], 1.0 / zooms[1]
    tight = 1.0 / high

    def axis(lo: float, hi: float, shift: float) -> tuple[float, float]:
        centre = (lo + hi) / 2.0
        if shift == 0.0:
            # zoom about one point: the windows nest, so the tightest one (centred on
            # the subject) holding it means every window does
            c_lo, c_hi = _centres(lo, hi, tight)
            s = _s(min(max(centre, c_lo), c_hi), tight)
            return s, s
        s_lo, s_hi = _centres(lo, hi, w_start)
        e_lo, e_hi = _centres(lo, hi, w_end)
        # the end centre c and the start centre c - shift must both keep the subject
        least, most = e_lo - s_hi, e_hi - s_lo
        shift = max(0.0, min(shift, most)) if shift > 0 else min(0.0, max(shift, least))
        end = min(max(centre, max(e_lo, s_lo + shift)), min(e_hi, s_hi + shift))
        return _s(end - shift, w_start), _s(end, w_end)

    shifts = dict(travel)
    path = CameraPath(zooms, (0.0, 0.0), (0.0, 0.0))
    for attempt in range(8):
        path = CameraPath(zooms, axis(box[0], box[2], shifts["x"]),
                          axis(box[1], box[3], shifts["y"]))
        if contains(path, box):
            break
        # a zoom and a pan together do not move the window edges linearly: travel
        # less (at last not at all: a zoom about the subject always holds it)
        factor = 0.7 if attempt < 6 else 0.0
        shifts = {k: v * factor for k, v in shifts.items()}
    return path
