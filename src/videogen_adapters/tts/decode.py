"""Turn audio bytes of any container (WAV, MP3, Ogg, FLAC...) into float PCM.

16-bit PCM WAV is read with the standard library; everything else (float or
24-bit WAV, MP3, Opus...) is decoded with PyAV (FFmpeg libraries in its wheel).
"""

from __future__ import annotations

import io
import wave

import numpy as np

__all__ = ["decode_audio"]


def decode_audio(data: bytes, *, channels: int = 1, rate: int | None = None
                 ) -> tuple[np.ndarray, int]:
    """Decode ``data`` → (float32 samples ``(n,)`` for mono or ``(n, channels)``, rate).

    ``rate`` resamples (PyAV path only, or when a WAV's rate differs); None keeps
    the source rate. Raises ValueError when the bytes are not audio.
    """
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        try:
            samples, source_rate = _read_pcm16_wav(data)
        except (wave.Error, EOFError, ValueError):
            pass
        else:
            if samples.size and (rate is None or rate == source_rate):
                return _layout(samples, channels), source_rate
    return _decode_av(data, channels, rate)


def _read_pcm16_wav(data: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(data), "rb") as src:
        if src.getsampwidth() != 2:
            raise ValueError("not 16-bit PCM")
        n_channels, source_rate = src.getnchannels(), src.getframerate()
        # streamed WAVs may carry a bogus frame count: read to the end
        raw = src.readframes(1 << 31)
    samples = np.frombuffer(raw[: len(raw) // (2 * n_channels) * 2 * n_channels], dtype="<i2")
    return samples.reshape(-1, n_channels).astype(np.float32) / 32767.0, source_rate


def _layout(samples: np.ndarray, channels: int) -> np.ndarray:
    """``(n, c)`` → mono ``(n,)`` or ``(n, channels)``."""
    if channels == 1:
        return samples.mean(axis=1).astype(np.float32)
    if samples.shape[1] == channels:
        return samples
    return np.repeat(samples.mean(axis=1, keepdims=True), channels, axis=1).astype(np.float32)


def _decode_av(data: bytes, channels: int, rate: int | None) -> tuple[np.ndarray, int]:
    import av

    layout = "mono" if channels == 1 else "stereo"
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise ValueError("no audio stream")
            stream = container.streams.audio[0]
            out_rate = int(rate or stream.rate or stream.codec_context.sample_rate or 48000)
            resampler = av.AudioResampler(format="s16", layout=layout, rate=out_rate)
            chunks: list[np.ndarray] = []
            for frame in container.decode(stream):
                chunks.extend(r.to_ndarray() for r in resampler.resample(frame))
            chunks.extend(r.to_ndarray() for r in resampler.resample(None))
    except av.FFmpegError as exc:
        raise ValueError(f"cannot decode audio: {exc}") from exc
    if not chunks:
        raise ValueError("no audio decoded")
    # packed s16: each chunk is (1, n·channels)
    pcm = np.concatenate([c.reshape(-1) for c in chunks]).astype(np.float32) / 32767.0
    return (pcm if channels == 1 else pcm.reshape(-1, channels)), out_rate
