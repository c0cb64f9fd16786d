"""Streaming building blocks of the synthesiser: a feedback-delay-network reverb
and a soft limiter, both processing a bed chunk by chunk with carried state."""

from __future__ import annotations

import numpy as np

__all__ = ["DecimatedReverb", "FdnReverb", "soft_limit"]

_DELAYS_48K = (1447, 1697, 1913, 2203, 2437, 2731, 2953, 3229)  # ~30–67 ms, mutually prime


def _hadamard(n: int) -> np.ndarray:
    h = np.array([[1.0]])
    while h.shape[0] < n:
        h = np.block([[h, h], [h, -h]])
    return h / np.sqrt(n)


class FdnReverb:
    """An 8-line feedback delay network (Hadamard mixing) with per-pass damping.

    Processed in blocks no longer than the shortest delay, so each block only
    reads the past: numpy does the work, Python loops once per ~30 ms of audio.
    ``rt60`` is the decay time in seconds; ``damping`` (0..1) darkens the tail.
    State carries across :meth:`process` calls, so a bed can stream in chunks.
    """

    def __init__(self, sr: int, rt60: float = 2.0, damping: float = 0.45) -> None:
        self.delays = np.array([max(64, round(d * sr / 48000)) for d in _DELAYS_48K])
        self.gains = 10 ** (-3.0 * self.delays / (max(0.1, rt60) * sr))
        self.mix = _hadamard(len(self.delays))
        self.damping = damping
        self.span = int(self.delays.max()) + 1
        self.history = np.zeros((len(self.delays), self.span))

    def process(self, x: np.ndarray) -> np.ndarray:
        """Reverberate stereo ``x`` (2, n) → wet stereo (2, n)."""
        lines_n, n = len(self.delays), x.shape[1]
        lines = np.zeros((lines_n, self.span + n))
        lines[:, : self.span] = self.history
        feed = np.empty((lines_n, n))
        feed[0::2], feed[1::2] = x[0], x[1]
        block = int(self.delays.min())
        delays = [int(v) for v in self.delays]
        g, a, span = self.gains[:, None], self.damping, self.span
        pos = 0
        while pos < n:
            b = min(block, n - pos)
            at = span + pos
            # each line's output b samples long, plus one sample before it (damping)
            seg = np.stack([lines[i, at - d - 1: at - d + b] for i, d in enumerate(delays)])
            damped = (1 - a) * seg[:, 1:] + a * seg[:, :-1]
            lines[:, at: at + b] = feed[:, pos: pos + b] * 0.35 + self.mix @ (g * damped)
            pos += b
        rows = np.arange(lines_n)[:, None]
        d = self.delays[:, None]
        taps = self.span - d + np.arange(n)
        out = lines[rows, taps]
        self.history = lines[:, -self.span:]
        return np.vstack([out[0::2].sum(axis=0), out[1::2].sum(axis=0)]) * 0.5


class DecimatedReverb:
    """:class:`FdnReverb` run at ``1/factor`` of the sample rate (groups averaged
    in, linear interpolation out): a reverb tail is dark anyway, and this divides
    its cost. Chunks passed to :meth:`process` must be multiples of ``factor``
    long, except the last."""

    def __init__(self, sr: int, rt60: float = 2.0, damping: float = 0.45,
                 factor: int = 4) -> None:
        self.factor = factor
        self.fdn = FdnReverb(sr // factor, rt60, damping)
        self._last = np.zeros((2, 1))

    def process(self, x: np.ndarray) -> np.ndarray:
        """Wet stereo for stereo ``x`` (2, n)."""
        f, n = self.factor, x.shape[1]
        padded = np.pad(x, ((0, 0), (0, -n % f)))
        low = self.fdn.process(padded.reshape(2, -1, f).mean(axis=2))
        prev = np.concatenate([self._last, low[:, :-1]], axis=1)
        frac = (np.arange(f) + 1) / f  # position of each output sample between lows
        up = prev[:, :, None] * (1 - frac) + low[:, :, None] * frac
        self._last = low[:, -1:]
        return up.reshape(2, -1)[:, :n]


def soft_limit(x: np.ndarray, ceiling: float = 0.89) -> np.ndarray:
    """Leave samples below ``ceiling``·0.7 alone and bend louder ones smoothly
    (tanh knee) so nothing exceeds ``ceiling``."""
    knee = ceiling * 0.7
    over = np.abs(x) > knee
    if over.any():
        y = x.copy()
        room = ceiling - knee
        v = np.abs(x[over]) - knee
        y[over] = np.sign(x[over]) * (knee + room * np.tanh(v / room))
        return y
    return x
