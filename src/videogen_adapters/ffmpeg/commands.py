"""Pure builders of ffmpeg command lines (argv lists); nothing here runs ffmpeg.

Every function takes the ffmpeg executable path and returns a ``list[str]``
that :class:`~videogen_adapters.ffmpeg.runner.FfmpegRunner` runs. Keeping the
commands pure lets the unit tests check them without spawning a process.

Encoding is always the same (:func:`x264_args`): libx264 with the configured
preset/crf, yuv420p, BT.709 tags, closed GOPs (every chunk starts with an IDR
frame, so chunks join by stream copy), and an IDR frame forced at every
requested cut frame of a clip (the ``ClipRequest.cut_frames`` contract).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from videogen_core.model import VideoSettings

__all__ = [
    "X264_PARAMS",
    "ass_filter",
    "audio_measure_args",
    "concat_list_text",
    "concat_mux_args",
    "encode_raw_args",
    "ffmetadata_text",
    "force_key_frames_expr",
    "lone_encoder_threads",
    "mux_args",
    "normalize_args",
    "x264_args",
    "x264_params",
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


def lone_encoder_threads(cores: int | None = None) -> int:
    """x264 threads for an encoder that has the machine to itself: ``cores + 2``, at
    least x264's own choice of 1.5 x cores. On 2 cores x264 picks 3 frame threads and
    leaves a core idle part of the time; 4 encoded the reference job's frames ~10 %
    faster, with less CPU (benchmarks/README.md)."""
    n = max(1, cores if cores is not None else (os.cpu_count() or 1))
    return max(n * 3 // 2, n + 2)


#: x264 options every encode adds to its preset: closed GOPs (see :func:`x264_args`),
#: and motion that stays smooth in the delivered file. With the preset's rate control
#: a slow pan shakes 0.011-0.016 px at crf 5 (half resolution, 7-frame local mean):
#: macroblock-tree, adaptive quantisation and psychovisual RD leave the unreferenced
#: B-frames at QP ~9 (P ~3) and half of their blocks skipped, so their low
#: frequencies sit off the path. ``qcomp=1`` (no macroblock-tree QP spread),
#: ``aq-mode=0`` (no per-block QP spread) and ``psy=0`` bring 4 pans to
#: 0.007-0.009 px at the same crf, with -1 % bytes and the same encode CPU
#: (``benchmarks/bench_jitter.py``; benchmarks/README.md "Pan jitter").
X264_PARAMS = "open-gop=0:psy=0:qcomp=1.0:aq-mode=0"


def x264_params(settings: VideoSettings) -> str:
    """The ``-x264-params`` value: :data:`X264_PARAMS`."""
    return X264_PARAMS


def x264_args(
    settings: VideoSettings,
    cut_frames: Sequence[int] = (),
    *,
    cores: int | None = None,
) -> list[str]:
    """Output options that encode with the final settings (every segment uses these).

    ``-forced-idr 1`` turns the forced key frames into IDR frames, and x264's
    default closed GOP means nothing after a cut references anything before it.
    """
    if settings.codec not in ("h264", "libx264"):
        raise ValueError(f"unsupported codec {settings.codec!r} (only h264)")
    params = x264_params(settings)
    args = ["-c:v", "libx264", "-preset", settings.preset, "-crf", str(settings.crf),
            "-pix_fmt", settings.pix_fmt, "-x264-params", params,
            "-forced-idr", "1", *_COLOR_TAGS,
            # square pixels, written down (raw frames carry no SAR: players guessed)
            "-aspect", f"{settings.width}:{settings.height}"]
    # encoders running side by side get few threads each (settings.threads, e.g. 1:
    # frame threads fighting over the same cores cost ~15 % more CPU); a lone one, more
    # threads than cores (see lone_encoder_threads)
    args += ["-threads", str(settings.threads or lone_encoder_threads(cores))]
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
    video_filter: str | None = None,
    faststart: bool = True,
) -> list[str]:
    """Encode ``frames`` raw frames read from stdin (size/fps of ``settings``) into an MP4,
    through ``video_filter`` when given (burnt-in captions). ``faststart=False`` skips
    moving the index to the front (a file that is remuxed anyway)."""
    return [
        *_base(ffmpeg, stdin=True),
        "-f", "rawvideo", "-pix_fmt", input_pix_fmt,
        "-s", f"{settings.width}x{settings.height}", "-framerate", str(settings.fps),
        *_COLOR_TAGS,
        "-i", "pipe:0",
        "-frames:v", str(frames), "-an",
        *(["-vf", video_filter] if video_filter else []),
        *x264_args(settings, cut_frames),
        *(["-movflags", "+faststart"] if faststart else []), "-f", "mp4", str(output),
    ]


def concat_list_text(paths: Sequence[Path]) -> str:
    """The concat demuxer's list file for ``paths`` (quoted for the demuxer)."""
    lines = ["ffconcat version 1.0"]
    for path in paths:
        escaped = str(Path(path).resolve()).replace("'", "'\\''")
        lines.append(f"file '{escaped}'")
    return "\n".join(lines) + "\n"


def _filter_path(path: Path) -> str:
    """A path quoted for a filter option value inside single quotes."""
    return str(path).replace("\\", "/").replace(":", "\\:").replace("'", "\\'")


def ass_filter(ass: Path, fonts_dir: Path | None = None) -> str:
    """A libass ``ass`` filter burning the ASS script ``ass`` in (its styles and
    positions are in output pixels; see :mod:`.ass`); ``fonts_dir`` adds a folder
    of fonts that the script may name."""
    out = f"ass=filename='{_filter_path(ass)}'"
    if fonts_dir is not None:
        out += f":fontsdir='{_filter_path(fonts_dir)}'"
    return out


def _metadata_value(text: str) -> str:
    out = "".join("\\" + ch if ch in "=;#\\\n" else ch for ch in text)
    return out.replace("\r", " ")


def ffmetadata_text(chapters: Sequence[tuple[float, float, str]]) -> str:
    """An FFMETADATA1 file with one chapter per ``(start, end, title)`` (seconds),
    for ``-map_chapters`` at the final mux."""
    lines = [";FFMETADATA1"]
    for start, end, title in chapters:
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={max(0, round(start * 1000))}",
                  f"END={max(0, round(end * 1000))}", f"title={_metadata_value(title)}"]
    return "\n".join(lines) + "\n"


def _final_mux(
    ffmpeg: str, video_input: list[str], video_codec: list[str], output: Path,
    audio: Path | None, subtitles: Path | None, chapters: Path | None = None,
) -> list[str]:
    """Input 0 (``video_input``) + the audio (copied) + a mov_text caption track
    (+ the chapters of an FFMETADATA file) → MP4."""
    args = [*_base(ffmpeg), *video_input]
    maps = ["-map", "0:v:0"]
    index = 1
    if audio is not None:
        args += ["-i", str(audio)]
        maps += ["-map", f"{index}:a:0"]
        index += 1
    if subtitles is not None:
        args += ["-i", str(subtitles)]
        maps += ["-map", f"{index}:s:0"]
        index += 1
    if chapters is not None:
        args += ["-f", "ffmetadata", "-i", str(chapters)]
        maps += ["-map_chapters", str(index)]
    args += [*maps, *video_codec]
    if audio is not None:
        args += ["-c:a", "copy"]
    if subtitles is not None:
        args += ["-c:s", "mov_text", "-metadata:s:s:0", "language=eng"]
    return [*args, "-movflags", "+faststart", "-f", "mp4", str(output)]


def concat_mux_args(
    ffmpeg: str,
    list_file: Path,
    output: Path,
    *,
    audio: Path | None = None,
    subtitles: Path | None = None,
    chapters: Path | None = None,
) -> list[str]:
    """Join the chunks in ``list_file`` by stream copy and mux the audio (copied), an
    optional mov_text subtitle track and the chapters of an FFMETADATA file."""
    return _final_mux(ffmpeg, ["-f", "concat", "-safe", "0", "-i", str(list_file)],
                      ["-c:v", "copy"], output, audio, subtitles, chapters)


def mux_args(
    ffmpeg: str,
    video: Path,
    output: Path,
    *,
    audio: Path | None = None,
    subtitles: Path | None = None,
    chapters: Path | None = None,
) -> list[str]:
    """Put ``video``'s stream, the ``audio`` track and a mov_text caption track into
    one MP4 by stream copy, index at the front (``+faststart``); ``chapters`` is an
    FFMETADATA file (:func:`ffmetadata_text`) whose chapters the MP4 carries."""
    return _final_mux(ffmpeg, ["-i", str(video)], ["-c:v", "copy"], output, audio, subtitles,
                      chapters)


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
