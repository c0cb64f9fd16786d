"""The audio mix: narration placed on the timeline, ducked music, loudness target.

One ffmpeg pass mixes everything into a float WAV and measures it (ebur128:
integrated loudness and true peak); a second pass applies the correction (a
gain, plus a look-ahead limiter only when the gain would break the true-peak
ceiling — see :func:`normalization`) and encodes AAC of exactly the video's
duration — padded with silence, never cut short, so the audio covers the whole
video. The muxer measures the delivered file again. The graph
(:func:`mix_graph`) is pure:

* narrations: resampled, delayed to their start (in samples), summed;
* music beds: trimmed to their span, adjacent beds crossfaded over their
  overlap (fade out / fade in), delayed, summed, lowered by ``music_gain_db``,
  faded in/out at the video's ends, then **ducked** by a sidechain compressor
  keyed by the narration (a low threshold and a high ratio put the music
  ``duck_db`` and more below its level while speech plays);
* speech + ducked music summed, padded/trimmed to the total.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path

import attrs

from videogen_core.errors import RenderFailed
from videogen_core.model import AudioSettings
from videogen_core.ports import MusicPlacement, NarrationPlacement
from videogen_core.progress import CancelToken

from . import commands
from .runner import FfmpegRunner, atomic_output

__all__ = ["Loudness", "converge_loudness", "measure_loudness", "mix_audio", "mix_graph",
           "normalization", "parse_ebur128"]

_FORMAT = "aformat=sample_fmts=fltp:channel_layouts=stereo"


@attrs.frozen
class Loudness:
    """Integrated loudness (LUFS) and true peak (dBTP) of a file's audio."""

    integrated: float
    true_peak: float


def _ducking(settings: AudioSettings) -> str:
    # Gain reduction above threshold is (level − threshold)·(1 − 1/ratio): with the
    # threshold at −50 dBFS, speech whose envelope sits anywhere above about
    # −50 + duck_db/0.95 dB pushes the music down by at least duck_db.
    return ("sidechaincompress=threshold=0.00316:ratio=20:knee=1:attack=15:release=350"
            ":makeup=1:detection=rms:link=maximum")


def mix_graph(
    narrations: Sequence[NarrationPlacement],
    music: Sequence[MusicPlacement],
    total: float,
    settings: AudioSettings,
) -> tuple[list[Path], str]:
    """Inputs and ``-filter_complex`` text producing ``[mix]`` (see module docstring)."""
    rate = settings.sample_rate
    inputs: list[Path] = []
    chains: list[str] = []
    speech_labels: list[str] = []
    for k, placement in enumerate(narrations):
        inputs.append(Path(placement.path))
        delay = max(0, round(placement.start * rate))
        chains.append(f"[{len(inputs) - 1}:a]aresample={rate},{_FORMAT},"
                      f"adelay=delays={delay}S:all=1[n{k}]")
        speech_labels.append(f"[n{k}]")
    music_labels: list[str] = []
    ordered = sorted(music, key=lambda m: m.start)
    for k, bed in enumerate(ordered):
        inputs.append(Path(bed.path))
        length = max(0.0, bed.end - bed.start)
        parts = [f"[{len(inputs) - 1}:a]aresample={rate},{_FORMAT}",
                 f"atrim=duration={length:.6f}", "asetpts=PTS-STARTPTS"]
        if k > 0:
            xin = ordered[k - 1].end - bed.start
            if xin > 0:
                parts.append(f"afade=t=in:st=0:d={xin:.6f}:curve=qsin")
        if k + 1 < len(ordered):
            xout = bed.end - ordered[k + 1].start
            if xout > 0:
                parts.append(f"afade=t=out:st={length - xout:.6f}:d={xout:.6f}:curve=qsin")
        parts.append(f"adelay=delays={max(0, round(bed.start * rate))}S:all=1")
        chains.append(",".join(parts) + f"[m{k}]")
        music_labels.append(f"[m{k}]")

    def summed(labels: list[str], name: str) -> None:
        if len(labels) == 1:
            chains.append(f"{labels[0]}anull[{name}]")
        else:
            chains.append("".join(labels) + f"amix=inputs={len(labels)}:normalize=0"
                          f":duration=longest:dropout_transition=0[{name}]")

    pad = f"apad=whole_dur={total:.6f},atrim=duration={total:.6f}"
    fade_out_start = max(0.0, total - settings.fade_out)
    music_shape = (f"volume={settings.music_gain_db:g}dB,{pad},"
                   f"afade=t=in:st=0:d={settings.fade_in:g}:curve=qsin,"
                   f"afade=t=out:st={fade_out_start:.6f}:d={settings.fade_out:g}:curve=qsin")
    if speech_labels and music_labels:
        summed(speech_labels, "speech")
        summed(music_labels, "music0")
        chains.append(f"[music0]{music_shape}[music]")
        chains.append(f"[speech]{pad},asplit=2[sp][key]")
        chains.append(f"[music][key]{_ducking(settings)}[ducked]")
        chains.append("[sp][ducked]amix=inputs=2:normalize=0:duration=longest"
                      f":dropout_transition=0,{pad}[mix]")
    elif speech_labels:
        summed(speech_labels, "speech")
        chains.append(f"[speech]{pad}[mix]")
    elif music_labels:
        summed(music_labels, "music0")
        chains.append(f"[music0]{music_shape}[mix]")
    else:
        chains.append(f"anullsrc=r={rate}:cl=stereo,atrim=duration={total:.6f}[mix]")
    return inputs, ";".join(chains)


def mix_audio(
    runner: FfmpegRunner,
    narrations: Sequence[NarrationPlacement],
    music: Sequence[MusicPlacement],
    total: float,
    settings: AudioSettings,
    output: Path,
    workdir: Path,
    *,
    cancel: CancelToken | None = None,
) -> Loudness:
    """Mix, loudness-normalise and encode the soundtrack (AAC in MP4) to ``output``;
    return the loudness of the mix before normalisation."""
    inputs, graph = mix_graph(narrations, music, total, settings)
    wav = workdir / "mix.wav"
    graph += ";[mix]asplit=2[out][meter];[meter]ebur128=peak=true[measured]"
    argv = [runner.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "info", "-y"]
    for path in inputs:
        argv += ["-i", str(path)]
    argv += ["-filter_complex", graph, "-map", "[out]", "-c:a", "pcm_f32le", str(wav),
             "-map", "[measured]", "-f", "null", "-"]
    measured = parse_ebur128(runner.run(argv, stage="mix", cancel=cancel))
    chain = converge_loudness(runner, wav, measured, settings, workdir, cancel=cancel)
    with atomic_output(output) as tmp:
        runner.run(commands.normalize_args(runner.ffmpeg, wav, tmp, chain, settings.sample_rate,
                                           total), stage="mix", cancel=cancel)
    return measured


def converge_loudness(
    runner: FfmpegRunner,
    wav: Path,
    measured: Loudness,
    settings: AudioSettings,
    workdir: Path,
    *,
    cancel: CancelToken | None = None,
    tolerance: float = 0.3,
    attempts: int = 3,
) -> str:
    """The gain/limiter filter that lands ``wav`` on the loudness target.

    A limiter that catches peaks also lowers the integrated loudness (by 1–2 LU
    on peaky speech), so one computed gain can miss the target. Apply the
    filter, measure the result, and correct the gain by what is still missing,
    until it is within ``tolerance`` LU (each pass is a fraction of a second)."""
    chain = normalization(measured, settings)
    if chain == "anull":
        return chain
    gain = settings.loudness_lufs - measured.integrated
    for _ in range(attempts):
        stderr = runner.run(
            # integrated loudness only: the limiter already holds the peaks, and
            # true-peak metering (4x oversampling) would be most of the pass's cost
            [runner.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "info", "-y", "-i",
             str(wav), "-af", f"{chain},ebur128", "-f", "null", "-"],
            stage="mix", cancel=cancel)
        result = parse_ebur128(stderr, peak=False)
        missing = settings.loudness_lufs - result.integrated
        if abs(missing) <= tolerance or not math.isfinite(missing):
            break
        gain += missing
        chain = normalization(Loudness(settings.loudness_lufs - gain, measured.true_peak),
                              settings)
    return chain


def normalization(measured: Loudness, settings: AudioSettings) -> str:
    """The filter that brings a mix measured as ``measured`` to the loudness target.

    A plain gain reaches the integrated target exactly; when that gain would push
    the true peak over the ceiling, a look-ahead limiter set 1 dB under the
    ceiling (sample peaks; the margin covers inter-sample and AAC overshoot)
    catches the peaks. Silence gets no gain.
    """
    if not math.isfinite(measured.integrated) or measured.integrated < -70:
        return "anull"
    gain = settings.loudness_lufs - measured.integrated
    chain = f"volume={gain:.2f}dB"
    if measured.true_peak + gain > settings.true_peak_db - 1.0:
        limit = 10 ** ((settings.true_peak_db - 1.0) / 20)
        chain += f",alimiter=limit={limit:.4f}:attack=5:release=80:level=false"
    return chain


_SUMMARY_I = re.compile(r"Integrated loudness:\s*\n\s*I:\s*(-?[\d.]+|-inf)\s*LUFS")
_SUMMARY_TP = re.compile(r"True peak:\s*\n\s*Peak:\s*(-?[\d.]+|-inf)\s*dBFS")


def parse_ebur128(stderr: str, *, peak: bool = True) -> Loudness:
    """The integrated loudness and true peak from ebur128's printed summary
    (``peak=False``: a run without true-peak metering; the peak is then NaN)."""
    found_i = _SUMMARY_I.search(stderr)
    found_tp = _SUMMARY_TP.search(stderr)
    if not found_i or (peak and not found_tp):
        raise RenderFailed("measure", "ebur128 printed no summary", stderr_tail=stderr[-2000:])
    true_peak = float(found_tp.group(1)) if found_tp else math.nan
    return Loudness(float(found_i.group(1)), true_peak)


def measure_loudness(runner: FfmpegRunner, path: Path,
                     cancel: CancelToken | None = None) -> Loudness:
    """Integrated loudness and true peak of ``path``'s audio, measured with ebur128."""
    stderr = runner.run(commands.audio_measure_args(runner.ffmpeg, path), stage="measure",
                        cancel=cancel)
    return parse_ebur128(stderr)
