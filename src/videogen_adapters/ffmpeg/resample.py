"""Sub-pixel bilinear resampling of 8-bit planes with numpy (the Ken Burns hot loop).

A Ken Burns frame is a window of the pre-scaled source, given in floating
point and magnified onto the output: every output sample interpolates its two
source neighbours linearly on each axis. Pillow's ``resize(..., box=...)``
computes that one pixel at a time in plain C; here it is a handful of
whole-array numpy operations (vectorised): a 1024x576 zoom plane in 1.2 ms against
Pillow's 3.2 ms, a whole frame (Y, Cb, Cr) about 2-2.7x faster:

* the plane is kept **transposed** (one row per source column, made once per
  clip), so the horizontal pass gathers whole rows — contiguous copies — for
  the window's columns and their right neighbours, then mixes them:
  ``(lo·(256 − w) + hi·w + 128) >> 8`` in ``uint16``;
* the vertical pass gathers *neighbour pairs* — a ``uint16`` view of the
  intermediate at a stride of one byte, so element ``r`` holds rows ``r`` and
  ``r + 1`` — in one gather, whose result, read transposed, is already the
  output's row-major layout; then the same mix.

The intermediate is rounded to 8 bits between the passes, as Pillow does.
Weights have 8 bits, so a position is exact to 1/256 pixel, far inside the
0.01 px frame-to-frame jitter bound. Positions follow Pillow's convention
(output sample ``j`` is centred on ``start + (j + 0.5)·scale``) and clamp at
the plane's edges: for a magnifying window the result is Pillow's bilinear to
±2 levels (mean difference < 0.01 level). A shrinking window would alias (no
low-pass filter), so callers use this only when the move magnifies.
"""

from __future__ import annotations

import numpy as np

__all__ = ["resize", "resize_x", "resize_y", "taps", "transposed"]

_PAIRS = np.dtype("<u2")  # little-endian: the low byte is the first neighbour


def transposed(plane: np.ndarray) -> np.ndarray:
    """``plane`` (rows × columns, ``uint8``) as a C-contiguous columns × rows array:
    the layout :func:`resize` and :func:`resize_x` read."""
    return np.ascontiguousarray(np.asarray(plane, dtype=np.uint8).T)


def taps(start: float, end: float, count: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """For ``count`` output samples covering ``[start, end)`` of an axis of ``size``
    samples: each one's first source neighbour (``0 .. size − 2``) and the weight
    of the second neighbour, 0–256 (``uint16``)."""
    if size < 2:
        raise ValueError(f"a plane axis needs at least 2 samples, got {size}")
    scale = (end - start) / count
    position = start + (np.arange(count, dtype=np.float64) + 0.5) * scale - 0.5
    np.clip(position, 0.0, size - 1.0, out=position)
    index = np.minimum(position.astype(np.intp), size - 2)
    weight = np.rint((position - index) * 256.0).astype(np.uint16)
    return index, weight


def _mix(lo: np.ndarray, hi: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``(lo·(256 − weight) + hi·weight + 128) >> 8``, in place in ``lo`` (``uint16``:
    the sum never exceeds 255·256 + 128)."""
    lo *= 256 - weight
    hi *= weight
    lo += hi
    lo += 128
    lo >>= 8
    return lo


def _columns(columns: np.ndarray, x0: float, x1: float, width: int,
             rows: slice) -> np.ndarray:
    """Horizontal pass on a transposed plane: ``width`` × (rows) ``uint8``."""
    index, weight = taps(x0, x1, width, columns.shape[0])
    lo = columns[index, rows].astype(np.uint16)
    hi = columns[index + 1, rows].astype(np.uint16)
    return _mix(lo, hi, weight[:, None]).astype(np.uint8)


def resize(columns: np.ndarray, box: tuple[float, float, float, float],
           size: tuple[int, int]) -> np.ndarray:
    """The window ``box`` = (x0, y0, x1, y1) of a plane, given :func:`transposed`,
    resampled to ``size`` = (width, height): a C-contiguous height × width
    ``uint8`` array — Pillow's ``resize(size, BILINEAR, box=box)`` for a
    magnifying window."""
    x0, y0, x1, y1 = box
    width, height = size
    index, weight = taps(y0, y1, height, columns.shape[1])
    first, last = int(index[0]), int(index[-1]) + 2  # the source rows the window reads
    band = _columns(columns, x0, x1, width, slice(first, last))  # width × rows
    pairs = np.ndarray((width, last - first - 1), _PAIRS, band, 0, (last - first, 1))
    lo = pairs[:, index - first].T  # height × width, C-contiguous
    hi = lo >> 8
    lo &= 0xFF
    return _mix(lo, hi, weight[:, None]).astype(np.uint8)


def resize_x(columns: np.ndarray, x0: float, x1: float, width: int) -> np.ndarray:
    """The horizontal span ``[x0, x1)`` of a plane, given :func:`transposed`,
    resampled to ``width`` columns (every row kept): height × width ``uint8``."""
    band = _columns(columns, x0, x1, width, slice(None))
    return np.ascontiguousarray(band.T)


def resize_y(plane: np.ndarray, y0: float, y1: float, height: int) -> np.ndarray:
    """The vertical span ``[y0, y1)`` of ``plane`` (rows × columns ``uint8``)
    resampled to ``height`` rows (every column kept)."""
    index, weight = taps(y0, y1, height, plane.shape[0])
    lo = plane[index].astype(np.uint16)
    hi = plane[index + 1].astype(np.uint16)
    return _mix(lo, hi, weight[:, None]).astype(np.uint8)
