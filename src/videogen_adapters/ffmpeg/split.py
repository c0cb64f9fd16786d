"""Splitting an encoded clip at its cut frames by stream copy, in process (PyAV).

One demux pass reads the packets, checks the clip fits (frame count, size,
frame rate, codec, a key frame at every cut, pieces contiguous in decode
order — true for closed GOPs) and writes each piece to its own MP4 with its
timestamps starting at zero. No decoding, no ffmpeg process per clip.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import attrs

from videogen_core.errors import RenderFailed
from videogen_core.model import VideoSettings

__all__ = ["ClipLayout", "read_layout", "write_pieces"]


@attrs.frozen
class ClipLayout:
    """What a clip holds, and whether it can be split at ``cuts`` as it is."""

    frames: int
    fits: bool
    reason: str = ""


def _packets(clip: Path) -> tuple[object, list[object]]:
    import av

    try:
        container = av.open(str(clip))
    except (av.error.FFmpegError, OSError) as exc:
        raise RenderFailed("split", f"cannot open {clip.name}: {exc}", file=str(clip)) from exc
    if not container.streams.video:
        container.close()
        raise RenderFailed("split", f"{clip.name} has no video stream", file=str(clip))
    stream = container.streams.video[0]
    try:
        packets = [p for p in container.demux(stream) if p.size and p.pts is not None]
    except av.error.FFmpegError as exc:
        container.close()
        raise RenderFailed("split", f"cannot read {clip.name}: {exc}", file=str(clip)) from exc
    return container, packets


def _pieces(packets: list[object], cuts: Sequence[int]) -> list[int]:
    """Piece index of every packet (decode order), by its presentation index."""
    order = sorted(range(len(packets)), key=lambda i: packets[i].pts)  # type: ignore[attr-defined]
    display = [0] * len(packets)
    for rank, index in enumerate(order):
        display[index] = rank
    bounds = sorted(set(cuts))
    return [sum(1 for b in bounds if rank >= b) for rank in display]


def read_layout(clip: Path, frames: int, cuts: Sequence[int],
                settings: VideoSettings) -> ClipLayout:
    """Check that ``clip`` has ``frames`` frames at ``settings`` and splits cleanly at ``cuts``."""
    container, packets = _packets(clip)
    with container:  # type: ignore[attr-defined]
        stream = container.streams.video[0]  # type: ignore[attr-defined]
        ctx = stream.codec_context
        rate = float(stream.average_rate or 0)
        problems = []
        if len(packets) != frames:
            problems.append(f"{len(packets)} frames instead of {frames}")
        if (ctx.width, ctx.height) != (settings.width, settings.height):
            problems.append(f"{ctx.width}x{ctx.height} instead of "
                            f"{settings.width}x{settings.height}")
        if abs(rate - settings.fps) > 1e-3:
            problems.append(f"{rate:g} fps instead of {settings.fps}")
        if ctx.name != "h264" or str(ctx.pix_fmt) != settings.pix_fmt:
            problems.append(f"{ctx.name}/{ctx.pix_fmt} instead of h264/{settings.pix_fmt}")
        if not problems and cuts:
            ranks = sorted(packets, key=lambda p: p.pts)  # type: ignore[attr-defined]
            if not all(ranks[c].is_keyframe for c in cuts):  # type: ignore[attr-defined]
                problems.append("no key frame at a cut frame")
            pieces = _pieces(packets, cuts)
            if any(b < a for a, b in itertools.pairwise(pieces)):
                problems.append("open GOP across a cut")
        return ClipLayout(len(packets), not problems, "; ".join(problems))


def write_pieces(clip: Path, cuts: Sequence[int], outputs: Sequence[Path]) -> list[int]:
    """Write the pieces of ``clip`` between ``cuts`` to ``outputs`` (one more than the
    distinct cuts) by stream copy; return the frame count of each piece."""
    import av

    container, packets = _packets(clip)
    counts = [0] * len(outputs)
    with container:  # type: ignore[attr-defined]
        stream = container.streams.video[0]  # type: ignore[attr-defined]
        pieces = _pieces(packets, cuts)
        for index, path in enumerate(outputs):
            chosen = [p for p, piece in zip(packets, pieces, strict=True) if piece == index]
            if not chosen:
                continue
            base = min(p.pts for p in chosen)  # type: ignore[attr-defined]
            with av.open(str(path), "w", format="mp4") as out:
                target = out.add_stream_from_template(stream)
                for packet in chosen:
                    packet.pts -= base  # type: ignore[attr-defined]
                    packet.dts -= base  # type: ignore[attr-defined]
                    packet.stream = target  # type: ignore[attr-defined]
                    out.mux(packet)
            counts[index] = len(chosen)
    return counts
