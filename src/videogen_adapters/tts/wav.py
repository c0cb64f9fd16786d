"""Small PCM helpers shared by the narrators and music sources.

Everything here works on numpy arrays: float samples in [-1, 1] with shape
``(n,)`` (mono) or ``(n, channels)``; files are 16-bit PCM WAV written
atomically (a temporary file in the same folder, then :func:`os.replace`).
"""

from __future__ import annotations

import os
import struct
import tempfile
import wave
from pathlib import Path
from typing import Any

import numpy as np

from videogen_core import Cue
from videogen_core.captions import clamp_words

__all__ = [
    "FloatWavWriter",
    "WavWriter",
    "read_wav",
    "speech_bounds",
    "to_int16",
    "trim_cues",
    "write_wav",
]


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] → int16 (clipped, rounded)."""
    return np.clip(np.round(np.asarray(samples, dtype=np.float64) * 32767.0), -32767, 32767
                   ).astype("<i2")


def write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> float:
    """Write float (or int16) ``samples`` as 16-bit PCM WAV, atomically; return the
    duration in seconds. ``samples`` is ``(n,)`` for mono or ``(n, channels)``."""
    data = samples if samples.dtype == np.int16 else to_int16(samples)
    channels = 1 if data.ndim == 1 else int(data.shape[1])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as raw, wave.open(raw, "wb") as out:
            out.setnchannels(channels)
            out.setsampwidth(2)
            out.setframerate(int(sample_rate))
            out.writeframes(np.ascontiguousarray(data, dtype="<i2").tobytes())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return data.shape[0] / float(sample_rate)


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Read a 16-bit PCM WAV → (float samples ``(n,)`` or ``(n, channels)``, rate)."""
    with wave.open(str(path), "rb") as src:
        channels, width, rate = src.getnchannels(), src.getsampwidth(), src.getframerate()
        raw = src.readframes(src.getnframes())
    if width != 2:
        raise ValueError(f"{path}: only 16-bit PCM is supported (sample width {width})")
    data = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32767.0
    if channels > 1:
        data = data.reshape(-1, channels)
    return data, rate


def speech_bounds(
    samples: np.ndarray, sample_rate: int, *, threshold_db: float = -35.0, frame_ms: float = 10.0
) -> tuple[float, float] | None:
    """Seconds where sound starts and ends in ``samples`` (mono): the first and last
    ``frame_ms`` frame whose RMS is within ``threshold_db`` of the loudest frame.
    None for silence."""
    mono = samples if samples.ndim == 1 else samples.mean(axis=1)
    hop = max(1, int(sample_rate * frame_ms / 1000))
    n = len(mono) // hop
    if n == 0:
        return None
    frames = np.asarray(mono[: n * hop], dtype=np.float64).reshape(n, hop)
    rms = np.sqrt((frames**2).mean(axis=1))
    peak = float(rms.max())
    if peak < 1e-5:
        return None
    loud = np.flatnonzero(rms >= peak * 10 ** (threshold_db / 20))
    return float(loud[0] * hop / sample_rate), float((loud[-1] + 1) * hop / sample_rate)


def trim_cues(cues: list[Cue], duration: float) -> tuple[Cue, ...]:
    """Cues rounded to milliseconds, ordered, non-overlapping and inside ``[0, duration]``."""
    out: list[Cue] = []
    last = 0.0
    for cue in sorted(cues, key=lambda c: c.start):
        start = float(min(max(cue.start, last), duration))
        end = float(min(max(cue.end, start), duration))
        if end - start < 0.001 and out:
            continue
        trimmed = Cue(round(start, 3), round(end, 3), cue.text)
        out.append(Cue(trimmed.start, trimmed.end, cue.text, clamp_words(trimmed, cue.words)))
        last = end
    return tuple(out)


class WavWriter:
    """Streams 16-bit PCM frames into a WAV file atomically: frames go to a temporary
    file beside ``path`` which replaces ``path`` only when the context exits cleanly.

    ::

        with WavWriter(path, 48000, 2) as out:
            out.write(block)          # float (n, 2) or (n,) blocks
    """

    def __init__(self, path: Path, sample_rate: int, channels: int) -> None:
        self.path = Path(path)
        self.sample_rate = sample_rate
        self.channels = channels
        self.frames = 0
        self._tmp: str | None = None
        self._wave: wave.Wave_write | None = None

    def __enter__(self) -> WavWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, self._tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp",
                                         dir=self.path.parent)
        self._raw = os.fdopen(fd, "wb")
        self._wave = wave.open(self._raw, "wb")
        self._wave.setnchannels(self.channels)
        self._wave.setsampwidth(2)
        self._wave.setframerate(self.sample_rate)
        return self

    def write(self, samples: np.ndarray) -> None:
        """Append float samples ``(n,)`` / ``(n, channels)`` (or int16)."""
        assert self._wave is not None, "use WavWriter as a context manager"
        data = samples if samples.dtype == np.int16 else to_int16(samples)
        self._wave.writeframes(np.ascontiguousarray(data, dtype="<i2").tobytes())
        self.frames += data.shape[0]

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        assert self._wave is not None and self._tmp is not None
        try:
            self._wave.close()
            self._raw.close()
            if exc_type is None:
                os.replace(self._tmp, self.path)
        finally:
            Path(self._tmp).unlink(missing_ok=True)

    @property
    def duration(self) -> float:
        """Seconds written so far."""
        return self.frames / float(self.sample_rate)


class FloatWavWriter:
    """Streams 32-bit float frames into a WAV file (``WAVE_FORMAT_IEEE_FLOAT``, which
    ffmpeg reads as ``pcm_f32le``): for intermediate tracks whose sums may exceed
    full scale before a later gain. Not atomic (a working file); the header's sizes
    are written when the context exits.

    ::

        with FloatWavWriter(path, 48000, 2) as out:
            out.write(block)          # float (n, 2) or (n,) blocks
    """

    def __init__(self, path: Path, sample_rate: int, channels: int) -> None:
        self.path = Path(path)
        self.sample_rate = sample_rate
        self.channels = channels
        self.frames = 0
        self._fh: Any = None

    def _header(self) -> bytes:
        data = self.frames * self.channels * 4
        return (b"RIFF" + struct.pack("<I", 36 + data) + b"WAVE"
                + b"fmt " + struct.pack("<IHHIIHH", 16, 3, self.channels, self.sample_rate,
                                        self.sample_rate * self.channels * 4,
                                        self.channels * 4, 32)
                + b"data" + struct.pack("<I", data))

    def __enter__(self) -> FloatWavWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "wb")  # noqa: SIM115 - closed in __exit__
        self._fh.write(self._header())
        return self

    def write(self, samples: np.ndarray) -> None:
        """Append float samples ``(n,)`` (mono) or ``(n, channels)``."""
        assert self._fh is not None, "use FloatWavWriter as a context manager"
        data = np.ascontiguousarray(samples, dtype="<f4")
        self._fh.write(data.tobytes())
        self.frames += data.shape[0]

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        assert self._fh is not None
        try:
            if exc_type is None:
                self._fh.seek(0)
                self._fh.write(self._header())
        finally:
            self._fh.close()
