"""Sub-pixel translation between two frames by phase correlation (test helper).

The integer part comes from the peak of the phase-correlation surface; the
sub-pixel part from a weighted least-squares fit of the cross-power
spectrum's phase plane at low frequencies (no peak-interpolation bias).
"""

from __future__ import annotations

import numpy as np

__all__ = ["half_resolution", "phase_shift", "shift_jitter"]


def half_resolution(frame: np.ndarray) -> np.ndarray:
    """2x2 box average of a gray frame."""
    h, w = frame.shape[0] // 2 * 2, frame.shape[1] // 2 * 2
    f = frame[:h, :w].astype(np.float64)
    return (f[0::2, 0::2] + f[1::2, 0::2] + f[0::2, 1::2] + f[1::2, 1::2]) / 4.0


def phase_shift(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(dx, dy) such that ``b(x, y) ≈ a(x - dx, y - dy)`` (content moved by dx, dy)."""
    h, w = a.shape
    window = np.outer(np.hanning(h), np.hanning(w))
    fa = np.fft.fft2((a - a.mean()) * window)
    fb = np.fft.fft2((b - b.mean()) * window)
    cross = fb * np.conj(fa)
    weight = np.abs(cross)
    r = cross / np.maximum(weight, 1e-12)
    surface = np.fft.ifft2(r).real
    iy, ix = np.unravel_index(np.argmax(surface), surface.shape)
    iy = iy - h if iy > h // 2 else iy
    ix = ix - w if ix > w // 2 else ix
    u = np.fft.fftfreq(w)[None, :]
    v = np.fft.fftfreq(h)[:, None]
    # remove the integer shift, then fit the residual phase plane -2π(u·dx + v·dy)
    residual = r * np.exp(2j * np.pi * (u * ix + v * iy))
    mask = (np.abs(u) <= 0.125) & (np.abs(v) <= 0.125) & ((u != 0) | (v != 0))
    phase = np.angle(residual)[mask]
    wts = weight[mask]
    uu = np.broadcast_to(u, r.shape)[mask]
    vv = np.broadcast_to(v, r.shape)[mask]
    design = np.stack([-2 * np.pi * uu, -2 * np.pi * vv], axis=1) * np.sqrt(wts)[:, None]
    solution, *_ = np.linalg.lstsq(design, phase * np.sqrt(wts), rcond=None)
    return float(ix + solution[0]), float(iy + solution[1])


def shift_jitter(shifts: np.ndarray, radius: int = 2) -> np.ndarray:
    """Deviation of each frame-to-frame shift from its local mean (±``radius`` frames)."""
    kernel = np.ones(2 * radius + 1) / (2 * radius + 1)
    local = np.convolve(shifts, kernel, mode="valid")
    return shifts[radius:len(shifts) - radius] - local
