"""The synthesiser's instruments: numpy functions that render one note or hit.

Every function returns float32 samples at ``sr`` (mono ``(n,)``, or stereo
``(2, n)`` for pads). Tones are additive (band-limited by construction) or
PolyBLEP saws through a windowed-sinc low-pass; percussion is shaped noise and
pitch-swept sines from a seeded generator, so every sound is deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["bass", "bell", "brass", "clap", "hat", "kick", "midi_hz", "pad", "piano", "pluck",
           "release", "shaker", "snare", "tom", "upsample"]

TAU = 2 * np.pi


def midi_hz(note: float) -> float:
    """Frequency of a MIDI note number (69 = A4 = 440 Hz)."""
    return float(440.0 * 2 ** ((note - 69) / 12))


def _t(n: int, sr: int) -> np.ndarray:
    return np.arange(n, dtype=np.float64) / sr


def release(x: np.ndarray, sr: int, hold: float, release: float) -> np.ndarray:
    """Fade ``x`` (in place) over ``release`` seconds after ``hold`` seconds: a key let go."""
    start = int(hold * sr)
    if start < x.shape[-1]:
        tail = x.shape[-1] - start
        x[..., start:] *= np.exp(-np.arange(tail) / max(1.0, release * sr / 5))
        end = min(tail, max(1, int(0.01 * sr)))  # and reach exactly zero: no click at the cut
        x[..., x.shape[-1] - end:] *= np.linspace(1.0, 0.0, end)
    return x


def _attack(x: np.ndarray, sr: int, seconds: float) -> np.ndarray:
    n = min(x.shape[-1], max(1, int(seconds * sr)))
    x[..., :n] *= np.sin(np.linspace(0, np.pi / 2, n)) ** 2
    return x


def _additive(freq: float, seconds: float, sr: int, partials: Sequence[tuple[float, float, float]],
              limit: float) -> np.ndarray:
    """Sum of decaying sines: each partial is (ratio, amplitude, decay per second);
    a partial is computed only while it is audible (above −60 dB). float32 keeps
    it fast; its phase error (< 0.01 rad after seconds) is far below audibility."""
    n = int(seconds * sr)
    t = np.arange(n, dtype=np.float32) / np.float32(sr)
    out = np.zeros(n, dtype=np.float32)
    for i, (ratio, amp, decay) in enumerate(partials):
        f = freq * ratio
        if f >= limit:
            break
        m = n if decay <= 0 else min(n, int(6.9 / decay * sr) + 1)
        tm = t[:m]
        env = np.exp(np.float32(-decay) * tm)
        env *= np.float32(amp)
        out[:m] += env * np.sin(np.float32(TAU * f) * tm + np.float32(0.7 * i))
    return out


def piano(freq: float, seconds: float, sr: int, *, bright: float = 0.5) -> np.ndarray:
    """A soft piano-like tone: slightly stretched harmonics, upper ones dying first,
    two strings a few cents apart (``seconds`` long, undamped)."""
    b = 0.00015  # string stiffness: partials run a little sharp
    tilt = 1.6 - bright
    partials = [(k * np.sqrt(1 + b * k * k), k ** -tilt, 0.9 + 0.55 * k * (1.2 - bright))
                for k in range(1, 11)]
    limit = min(sr / 2.2, 3000 + 6000 * bright)
    tone = _additive(freq, seconds, sr, partials, limit)
    tone += 0.6 * _additive(freq * 1.0012, seconds, sr, partials[:4], limit)
    return _attack(tone, sr, 0.003).astype(np.float32)


def pluck(freq: float, seconds: float, sr: int, *, bright: float = 0.6) -> np.ndarray:
    """A plucked string (harp / pizzicato): bright attack, quick decay."""
    partials = [(k, k ** -(1.3 - 0.5 * bright), 3.0 + 2.2 * k) for k in range(1, 10)]
    return _attack(_additive(freq, seconds, sr, partials, sr / 2.2), sr, 0.002
                   ).astype(np.float32)


def bell(freq: float, seconds: float, sr: int) -> np.ndarray:
    """A celesta / glockenspiel-like bell: inharmonic partials, long ring."""
    partials = [(1.0, 1.0, 1.6), (2.0, 0.35, 2.4), (3.01, 0.18, 3.5), (4.17, 0.1, 5.0),
                (5.43, 0.06, 7.0)]
    return _attack(_additive(freq, seconds, sr, partials, sr / 2.2), sr, 0.002
                   ).astype(np.float32)


def _polyblep_saw(freq: float, n: int, sr: int, phase: float) -> np.ndarray:
    dt = freq / sr
    p = (phase + dt * np.arange(n)) % 1.0
    saw = 2.0 * p - 1.0
    lo = p < dt
    x = p[lo] / dt
    saw[lo] -= x + x - x * x - 1.0
    hi = p > 1.0 - dt
    x = (p[hi] - 1.0) / dt
    saw[hi] -= x * x + x + x + 1.0
    return saw


def _lowpass_kernel(cutoff: float, sr: int, taps: int = 95) -> np.ndarray:
    fc = min(0.45, cutoff / sr)
    m = np.arange(taps) - (taps - 1) / 2
    kernel = 2 * fc * np.sinc(2 * fc * m) * np.blackman(taps)
    return kernel / kernel.sum()


def upsample(x: np.ndarray, factor: int, taps_per_phase: int = 16) -> np.ndarray:
    """Band-limited interpolation of ``x`` (last axis) by an integer ``factor``
    (polyphase windowed sinc): what a pad rendered at a low rate needs."""
    if factor == 1:
        return x
    length = factor * taps_per_phase
    c = (length - 1) // 2
    h = np.sinc((np.arange(length) - c) / factor) * np.blackman(length)
    h *= factor / h.sum()
    n = x.shape[-1]
    rows = x.reshape(-1, n)
    out = np.zeros((rows.shape[0], n * factor))
    for p in range(factor):
        hp, off = h[(p + c) % factor:: factor], (p + c) // factor
        for r, row in enumerate(rows):
            out[r, p::factor] = np.convolve(row, hp)[off: off + n]
    return out.reshape(*x.shape[:-1], n * factor)


def pad(freq: float, seconds: float, sr: int, *, cutoff: float = 1800.0, attack: float = 0.6,
        detune: float = 9.0) -> np.ndarray:
    """A warm analogue pad: three detuned PolyBLEP saws spread in stereo, low-passed,
    with a slow attack. Returns ``(2, n)``.

    Rendered at a quarter of ``sr`` (its content stays below the low-pass) and
    interpolated up, which makes it about four times cheaper."""
    factor = 4 if sr % 4 == 0 and cutoff < sr / 10 else 1
    low = sr // factor
    n = int(seconds * low)
    ratios = 2 ** (np.array([-detune, 0.0, detune]) / 1200)
    saws = [_polyblep_saw(freq * r, n, low, phase) for r, phase in zip(ratios, (0.0, 0.33, 0.71),
                                                                           strict=True)]
    kernel = _lowpass_kernel(cutoff, low, taps=47)
    left = np.convolve(saws[0] + 0.7 * saws[1], kernel, mode="same")
    right = np.convolve(saws[2] + 0.7 * saws[1], kernel, mode="same")
    out = _attack(np.vstack([left, right]) * 0.25, low, attack)
    return upsample(out, factor).astype(np.float32)


def brass(freq: float, seconds: float, sr: int, *, cutoff: float = 2400.0) -> np.ndarray:
    """A soft brass/string lead: a pad voice with a quicker attack (mono)."""
    return pad(freq, seconds, sr, cutoff=cutoff, attack=0.12, detune=5.0).mean(axis=0)


def bass(freq: float, seconds: float, sr: int, *, grit: float = 0.3) -> np.ndarray:
    """A round electric-bass-like tone: fundamental plus a little 2nd/3rd harmonic."""
    t = _t(int(seconds * sr), sr)
    env = 0.55 + 0.45 * np.exp(-t * 6.0)
    tone = (np.sin(TAU * freq * t) + grit * np.exp(-t * 4) * np.sin(TAU * 2 * freq * t)
            + 0.5 * grit * np.exp(-t * 8) * np.sin(TAU * 3 * freq * t)) * env
    return _attack(tone, sr, 0.006).astype(np.float32)


def kick(sr: int, rng: np.random.Generator, *, tune: float = 48.0,
         weight: float = 1.0) -> np.ndarray:
    """A soft kick: a sine swept down to ``tune`` Hz (tuned to the key) plus a tiny click."""
    t = _t(int(0.45 * sr), sr)
    f = tune + 85 * np.exp(-t * 28)
    body = np.sin(TAU * np.cumsum(f) / sr) * np.exp(-t * (9 - 3 * weight))
    click = rng.standard_normal(t.size) * np.exp(-t * 400) * 0.15
    return _attack(body + click, sr, 0.001).astype(np.float32)


def tom(freq: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A deep tom / taiko hit: a falling sine with some skin noise."""
    t = _t(int(0.9 * sr), sr)
    f = freq * (1 + 0.6 * np.exp(-t * 18))
    body = np.sin(TAU * np.cumsum(f) / sr) * np.exp(-t * 4.5)
    skin = _highpass(rng.standard_normal(t.size)) * np.exp(-t * 35) * 0.2
    return _attack(body + skin, sr, 0.001).astype(np.float32)


def _highpass(x: np.ndarray, times: int = 1) -> np.ndarray:
    for _ in range(times):
        x = np.diff(x, prepend=0.0)
    return x


def _smooth(x: np.ndarray, width: int) -> np.ndarray:
    return np.convolve(x, np.ones(width) / width, mode="same")


def snare(sr: int, rng: np.random.Generator) -> np.ndarray:
    """A soft snare: a 190 Hz body plus bright, quickly decaying noise."""
    t = _t(int(0.3 * sr), sr)
    body = np.sin(TAU * 190 * t) * np.exp(-t * 25) * 0.6
    noise = _highpass(_smooth(rng.standard_normal(t.size), 3)) * np.exp(-t * 16) * 0.55
    return _attack(body + noise, sr, 0.001).astype(np.float32)


def clap(sr: int, rng: np.random.Generator) -> np.ndarray:
    """A hand clap: three quick noise bursts and a short tail."""
    t = _t(int(0.25 * sr), sr)
    env = np.exp(-t * 22)
    for delay in (0.0, 0.011, 0.022):
        env = env + np.where(t >= delay, np.exp(-(t - delay) * 180), 0.0) * 0.8
    noise = _highpass(_smooth(rng.standard_normal(t.size), 2))
    return (noise * env * 0.35).astype(np.float32)


def hat(sr: int, rng: np.random.Generator, *, open_: bool = False) -> np.ndarray:
    """A closed (or open) hi-hat: doubly high-passed noise with a fast decay."""
    t = _t(int((0.35 if open_ else 0.07) * sr), sr)
    noise = _highpass(rng.standard_normal(t.size), 2) * 0.25
    return (noise * np.exp(-t * (9 if open_ else 70))).astype(np.float32)


def shaker(sr: int, rng: np.random.Generator) -> np.ndarray:
    """A shaker: high noise with a rounded swell."""
    t = _t(int(0.1 * sr), sr)
    env = np.sin(np.pi * np.clip(t / 0.1, 0, 1)) ** 3
    return (_highpass(rng.standard_normal(t.size), 2) * env * 0.12).astype(np.float32)
