"""Writing test audio as 16-bit PCM WAV files (mono or stereo from the array's shape)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np


def write_wav(path: Path, signal: np.ndarray, rate: int) -> Path:
    """``signal`` in [-1, 1], shape ``(n,)`` (mono) or ``(n, channels)``, to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    channels = 1 if signal.ndim == 1 else signal.shape[1]
    data = (np.clip(signal, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(data.tobytes())
    return path
