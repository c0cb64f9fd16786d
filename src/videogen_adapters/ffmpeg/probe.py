"""Probing media files with PyAV (the bundled ffmpeg has no ffprobe).

:func:`probe` demuxes packets only (no decoding) to count video frames, find key
frames and measure durations exactly; :func:`decode_frames` decodes frames as
numpy arrays for tests and checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import attrs
import numpy as np

from videogen_core.errors import RenderFailed

__all__ = ["MediaInfo", "decode_frames", "index_facts", "probe"]


@attrs.frozen
class MediaInfo:
    """Measured facts of a media file (video fields are 0/"" when there is no video)."""

    duration: float
    frames: int = 0
    fps: float = 0.0
    width: int = 0
    height: int = 0
    codec: str = ""
    pix_fmt: str = ""
    keyframes: tuple[int, ...] = ()
    video_duration: float = 0.0
    has_audio: bool = False
    audio_duration: float = 0.0
    sample_rate: int = 0
    audio_codec: str = ""
    subtitle_streams: int = 0


def probe(path: Path) -> MediaInfo:
    """Measure ``path``: frames, fps, size, codec, key-frame indices (presentation
    order), video/audio durations, sample rate. RenderFailed when unreadable."""
    import av

    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise RenderFailed("probe", f"cannot open {Path(path).name}: {exc}", file=str(path)) \
            from exc
    with container:
        vstream = container.streams.video[0] if container.streams.video else None
        astream = container.streams.audio[0] if container.streams.audio else None
        video: list[tuple[int, bool, int]] = []
        audio_end: Fraction | None = None
        audio_start: Fraction | None = None
        streams = [s for s in (vstream, astream) if s is not None]
        for packet in container.demux(*streams):
            if packet.pts is None and packet.dts is None:
                continue
            pts = packet.pts if packet.pts is not None else packet.dts
            if vstream is not None and packet.stream.index == vstream.index:
                video.append((pts, packet.is_keyframe, packet.duration or 0))
            elif astream is not None and packet.stream.index == astream.index:
                tb = packet.time_base
                start = pts * tb
                end = (pts + (packet.duration or 0)) * tb
                audio_start = start if audio_start is None else min(audio_start, start)
                audio_end = end if audio_end is None else max(audio_end, end)
        info: dict[str, object] = {"subtitle_streams": len(container.streams.subtitles)}
        if vstream is not None:
            video.sort()
            tb = vstream.time_base
            rate = vstream.average_rate or vstream.guessed_rate or 0
            vdur = 0.0
            if video:
                last_dur = video[-1][2] or (int(1 / (rate * tb)) if rate else 0)
                vdur = float((video[-1][0] + last_dur - video[0][0]) * tb)
            info.update(
                frames=len(video), fps=float(rate), width=vstream.codec_context.width,
                height=vstream.codec_context.height, codec=vstream.codec_context.name,
                pix_fmt=str(vstream.codec_context.pix_fmt or ""),
                keyframes=tuple(i for i, (_, key, _) in enumerate(video) if key),
                video_duration=vdur,
            )
        if astream is not None:
            info.update(
                has_audio=True, sample_rate=astream.codec_context.sample_rate,
                audio_codec=astream.codec_context.name,
                audio_duration=float(audio_end - audio_start)
                if audio_end is not None and audio_start is not None else 0.0,
            )
        duration = float(container.duration / 1_000_000) if container.duration else max(
            float(info.get("video_duration", 0.0)), float(info.get("audio_duration", 0.0)))
    return MediaInfo(duration=duration, **info)  # type: ignore[arg-type]


def index_facts(path: Path) -> tuple[float, int]:
    """``(duration, video frames)`` of an MP4 read from its index alone (no packet is
    read): what the muxer reports for a file it just wrote. Falls back to
    :func:`probe` when the container does not say."""
    import av

    try:
        with av.open(str(path)) as container:
            frames = container.streams.video[0].frames if container.streams.video else 0
            duration = container.duration
    except (av.error.FFmpegError, OSError) as exc:
        raise RenderFailed("probe", f"cannot open {Path(path).name}: {exc}", file=str(path)) \
            from exc
    if frames <= 0 or not duration:
        info = probe(path)
        return info.duration, info.frames
    return duration / 1_000_000, frames


def decode_frames(path: Path, *, pix_fmt: str = "rgb24", width: int | None = None,
                  height: int | None = None) -> Iterator[np.ndarray]:
    """Decode the video frames of ``path`` in order as numpy arrays (``gray`` gives 2-D)."""
    import av

    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if width or height:
                frame = frame.reformat(width=width, height=height)
            yield frame.to_ndarray(format=pix_fmt)
