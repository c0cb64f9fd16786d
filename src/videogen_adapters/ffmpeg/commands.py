"""Pure builders of ffmpeg command lines (argv lists); nothing here runs ffmpeg.

Every function takes the ffmpeg executable path and returns a ``list[str]``
that :class:`~videogen_adapters.ffmpeg.runner.FfmpegRunner` runs. Keeping the
commands pure lets the unit tests check them without spawning a process.

Encoding is always the same (:func:`x264_args`): libx264 with the configured
preset/crf, yuv420p, BT.709 tags, closed GOPs, and an IDR frame forced at every
requested cut frame so that a clip can be split later by stream copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from videogen_core.model import VideoSettings

__all__ = [
    "FAST_ZONE",
    "audio_measure_args",
    "concat_list_text",
    "concat_mux_args",
    "crossfade_args",
    "encode_raw_args",
    "fade_args",
    "force_key_frames_expr",
    "normalize_args",
    "subtitles_filter",
    "x264_args",
]

_COLOR_TAGS = ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
               "-color_range", "tv"]


def _base(ffmpeg: str, *, stdin: bool = False, stats: bool = False) -> list[str]:
    args = [ffmpeg, "-hide_banner", "-loglevel", "error" if not stats else "info", "-y"]
    if not stdin:
        args.insert(2, "-nostdin")
    return args


def force_key_frames_expr(cut_frames: Sequence[int]) -> str | None:
    """A ``-force_key_frames`` expression forcing a key frame at each index (None if empty)."""
    cuts = sorted({int(c) for c in cut_frames if int(c) > 0})
    if not cuts:
        return None
    return "expr:" + "+".join(f"eq(n,{c})" for c in cuts)


#: x264 options for frames the muxer re-encodes anyway (transition material): the
#: same CRF (same quality), a cheaper analysis. Only options x264 can change
#: mid-stream, so the stream's parameter sets stay those of the final settings.
FAST_ZONE = "b=1,subme=1,trellis=0,me=dia"


def x264_args(
    settings: VideoSettings,
    cut_frames: Sequence[int] = (),
    fast_ranges: Sequence[tuple[int, int]] = (),
) -> list[str]:
    """Output options that encode with the final settings (every segment uses these).

    ``-forced-idr 1`` turns the forced key frames into IDR frames, and x264's
    default closed GOP means nothing after a cut references anything before it.
    ``fast_ranges`` (``[start, end)`` frame ranges) are encoded with
    :data:`FAST_ZONE` through x264 zones.
    """
    if settings.codec not in ("h264", "libx264"):
        raise ValueError(f"unsupported codec {settings.codec!r} (only h264)")
    params = "open-gop=0"
    zones = [f"{a},{b - 1},{FAST_ZONE}" for a, b in sorted(fast_ranges) if b > a]
    if zones:
        params += ":zones=" + "/".join(zones)
    args = ["-c:v", "libx264", "-preset", settings.preset, "-crf", str(settings.crf),
            "-pix_fmt", settings.pix_fmt, "-x264-params", params,
            "-forced-idr", "1", *_COLOR_TAGS]
    expr = force_key_frames_expr(cut_frames)
    if expr:
        args += ["-force_key_frames", expr]
    return args


def encode_raw_args(
    ffmpeg: str,
    output: Path,
    settings: VideoSettings,
    frames: int,
    *,
    cut_frames: Sequence[int] = (),
    input_pix_fmt: str = "yuv420p",
    fast_ranges: Sequence[tuple[int, int]] = (),
) -> list[str]:
    """Encode ``frames`` raw frames read from stdin (size/fps of ``settings``) into an MP4."""
    return [
        *_base(ffmpeg, stdin=True),
        "-f", "rawvideo", "-pix_fmt", input_pix_fmt,
        "-s", f"{settings.width}x{settings.height}", "-framerate", str(settings.fps),
        *_COLOR_TAGS,
        "-i", "pipe:0",
        "-frames:v", str(frames), "-an",
        *x264_args(settings, cut_frames, fast_ranges),
        "-movflags", "+faststart", "-f", "mp4", str(output),
    ]


def crossfade_args(
    ffmpeg: str, tail: Path, head: Path, frames: int, settings: VideoSettings, output: Path
) -> list[str]:
    """Blend the outgoing ``tail`` into the incoming ``head`` (both ``frames`` long)
    with xfade and encode the ``frames`` result with the final settings."""
    duration = frames / settings.fps
    graph = (f"[0:v]settb=1/{settings.fps},setpts=N[a];"
             f"[1:v]settb=1/{settings.fps},setpts=N[b];"
             f"[a][b]xfade=transition=fade:duration={duration:.6f}:offset=0,"
             f"format={settings.pix_fmt}[v]")
    return [*_base(ffmpeg), "-i", str(tail), "-i", str(head), "-filter_complex", graph,
            "-map", "[v]", "-frames:v", str(frames), "-an", "-r", str(settings.fps),
            *x264_args(settings), "-f", "mp4", str(output)]


def fade_args(
    ffmpeg: str, tail: Path | None, head: Path | None, frames: int, settings: VideoSettings,
    output: Path,
) -> list[str]:
    """Fade ``tail`` out to black and ``head`` in from black (each ``frames`` long),
    encoded back to back as one segment with the final settings."""
    inputs: list[str] = []
    chains: list[str] = []
    labels: list[str] = []
    for index, (path, kind) in enumerate(((tail, "out"), (head, "in"))):
        if path is None:
            continue
        n = len(labels)
        inputs += ["-i", str(path)]
        chains.append(f"[{n}:v]settb=1/{settings.fps},setpts=N,"
                      f"fade=t={kind}:s=0:n={frames}[s{index}]")
        labels.append(f"[s{index}]")
    if not labels:
        raise ValueError("fade needs a tail or a head")
    total = frames * len(labels)
    graph = ";".join(chains) + ";" + "".join(labels) + (
        f"concat=n={len(labels)}:v=1:a=0,format={settings.pix_fmt}[v]")
    return [*_base(ffmpeg), *inputs, "-filter_complex", graph, "-map", "[v]",
            "-frames:v", str(total), "-an", "-r", str(settings.fps), *x264_args(settings),
            "-f", "mp4", str(output)]


def concat_list_text(paths: Sequence[Path]) -> str:
    """The concat demuxer's list file for ``paths`` (quoted for the demuxer)."""
    lines = ["ffconcat version 1.0"]
    for path in paths:
        escaped = str(Path(path).resolve()).replace("'", "'\\''")
        lines.append(f"file '{escaped}'")
    return "\n".join(lines) + "\n"


def subtitles_filter(srt: Path, fonts_dir: Path | None = None) -> str:
    """A libass ``subtitles`` filter burning ``srt`` in with a readable default style."""
    path = str(srt).replace("\\", "/").replace(":", "\\:").replace("'", "\\'")
    style = ("FontName=DejaVu Sans,FontSize=20,PrimaryColour=&H00FFFFFF,"
             "OutlineColour=&H80000000,BorderStyle=1,Outline=2,Shadow=1,MarginV=24")
    out = f"subtitles=filename='{path}':force_style='{style}'"
    if fonts_dir is not None:
        out += ":fontsdir='" + str(fonts_dir).replace(":", "\\:") + "'"
    return out


def concat_mux_args(
    ffmpeg: str,
    list_file: Path,
    output: Path,
    *,
    audio: Path | None = None,
    subtitles: Path | None = None,
    burn_filter: str | None = None,
    settings: VideoSettings | None = None,
) -> list[str]:
    """Join the segments in ``list_file`` by stream copy and mux the audio (copied)
    and an optional mov_text subtitle track; with ``burn_filter`` the video is
    re-encoded through it (burnt-in captions) with ``settings``."""
    args = [*_base(ffmpeg), "-f", "concat", "-safe", "0", "-i", str(list_file)]
    maps = ["-map", "0:v:0"]
    index = 1
    if audio is not None:
        args += ["-i", str(audio)]
        maps += ["-map", f"{index}:a:0"]
        index += 1
    if subtitles is not None:
        args += ["-i", str(subtitles)]
        maps += ["-map", f"{index}:s:0"]
    args += maps
    if burn_filter is not None:
        if settings is None:
            raise ValueError("burning subtitles re-encodes: settings are required")
        args += ["-vf", burn_filter, *x264_args(settings)]
    else:
        args += ["-c:v", "copy"]
    if audio is not None:
        args += ["-c:a", "copy"]
    if subtitles is not None:
        args += ["-c:s", "mov_text", "-metadata:s:s:0", "language=eng"]
    args += ["-movflags", "+faststart", "-f", "mp4", str(output)]
    return args


def normalize_args(
    ffmpeg: str, source: Path, output: Path, gain_filter: str, sample_rate: int,
    duration: float, bitrate: str = "192k",
) -> list[str]:
    """Apply ``gain_filter`` (gain/limiter) to ``source`` and encode AAC to ``output``,
    padded/trimmed to exactly ``duration`` seconds."""
    af = (f"{gain_filter},aresample={sample_rate},apad=whole_dur={duration:.6f},"
          f"atrim=duration={duration:.6f}")
    return [*_base(ffmpeg), "-i", str(source), "-af", af, "-ar", str(sample_rate),
            "-c:a", "aac", "-b:a", bitrate, "-f", "mp4", str(output)]


def audio_measure_args(ffmpeg: str, source: Path) -> list[str]:
    """Measure integrated loudness and true peak of ``source``'s first audio stream."""
    return [*_base(ffmpeg, stats=True), "-i", str(source), "-map", "0:a:0",
            "-af", "ebur128=peak=true", "-f", "null", "-"]
