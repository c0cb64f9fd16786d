"""The audio mix: narration placed on the timeline, ducked music, loudness target.

First the narrations are laid end to end into ONE speech track and the music
beds (trimmed, crossfaded) into ONE music track (:func:`speech_track`,
:func:`music_track`): float WAVs written front to back, each file decoded in
blocks (PyAV) and summed in a window as long as the overlap — so memory, and the
number of ffmpeg inputs, stay the same whatever the number of scenes (an ffmpeg
graph with one input per narration grew by ~1 MB per input and did
O(inputs × length) work in its mixer). Then one ffmpeg pass mixes the two tracks
into a float WAV and measures it (ebur128:
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

:func:`mix_audio` hands :func:`mix_graph` the two tracks as one placement each;
the graph also takes any number of placements (the same result, the old way).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import attrs
import numpy as np

from videogen_core.errors import RenderFailed
from videogen_core.model import AudioSettings
from videogen_core.ports import MusicPlacement, NarrationPlacement
from videogen_core.progress import CancelToken

from ..heap import bound_heap
from ..tts.wav import FloatWavWriter
from . import commands
from .runner import FfmpegRunner, atomic_output

__all__ = ["Loudness", "converge_loudness", "decoded_blocks", "measure_loudness", "mix_audio",
           "mix_graph", "music_track", "normalization", "parse_ebur128", "speech_track"]

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


def decoded_blocks(path: Path, rate: int, channels: int) -> Iterator[np.ndarray]:
    """The audio of ``path`` (any format FFmpeg reads) as float32 blocks ``(n, channels)``
    at ``rate``, decoded and resampled a frame at a time (never the whole file)."""
    import av

    layout = "mono" if channels == 1 else "stereo"
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise RenderFailed("mix", f"{Path(path).name} has no audio stream",
                                   stderr_tail=f"{Path(path).name}: no audio stream")
            resampler = av.AudioResampler(format="flt", layout=layout, rate=rate)
            for frame in container.decode(container.streams.audio[0]):
                for out in resampler.resample(frame):
                    yield out.to_ndarray().reshape(-1, channels)
            for out in resampler.resample(None):
                yield out.to_ndarray().reshape(-1, channels)
    except av.FFmpegError as exc:  # the decoder's message stands in for ffmpeg's stderr
        raise RenderFailed("mix", f"cannot decode {Path(path).name}",
                           stderr_tail=f"{Path(path).name}: {exc}") from exc


class _Track:
    """Sums blocks placed at sample positions into a float WAV written front to
    back: samples before :meth:`flush`'s bound are final and written; a window
    keeps the rest (as long as the overlap of what is still being placed)."""

    def __init__(self, out: FloatWavWriter, channels: int) -> None:
        self.out = out
        self.written = 0
        self.window = np.zeros((0, channels), np.float32)

    def add(self, at: int, block: np.ndarray) -> None:
        at = max(at, self.written)  # never happens for sorted placements
        end = at + block.shape[0]
        if end - self.written > self.window.shape[0]:
            grown = np.zeros((end - self.written, self.window.shape[1]), np.float32)
            grown[: self.window.shape[0]] = self.window
            self.window = grown
        self.window[at - self.written: end - self.written] += block

    def flush(self, upto: int) -> None:
        """Write every sample before ``upto`` (silence where nothing was placed)."""
        if upto <= self.written:
            return
        have = min(upto - self.written, self.window.shape[0])
        self.out.write(self.window[:have])
        self.window = self.window[have:].copy()
        gap = upto - self.written - have
        while gap > 0:
            step = min(gap, 1 << 16)
            self.out.write(np.zeros((step, self.window.shape[1]), np.float32))
            gap -= step
        self.written = upto


def speech_track(narrations: Sequence[NarrationPlacement], rate: int, output: Path) -> float:
    """Lay every narration at its start (in samples at ``rate``) into one mono float
    WAV; return its duration. Overlapping narrations add up."""
    ordered = sorted(narrations, key=lambda p: p.start)
    starts = [max(0, round(p.start * rate)) for p in ordered]
    with FloatWavWriter(output, rate, 1) as out:
        track = _Track(out, 1)
        for k, placement in enumerate(ordered):
            final = starts[k + 1] if k + 1 < len(ordered) else None  # nothing lands before
            at = starts[k]
            for block in decoded_blocks(Path(placement.path), rate, 1):
                track.add(at, block)
                at += block.shape[0]
                track.flush(at if final is None else min(at, final))
        track.flush(track.written + track.window.shape[0])
    return out.frames / rate


def _qsin(x: np.ndarray) -> np.ndarray:
    """afade's ``qsin`` curve (quarter of a sine wave) of ``x`` in 0..1."""
    return np.sin(np.clip(x, 0.0, 1.0) * (np.pi / 2)).astype(np.float32)


def music_track(music: Sequence[MusicPlacement], rate: int, output: Path) -> float:
    """Lay the beds into one stereo float WAV: each trimmed to its span, placed at
    its start, faded in over the overlap with the previous bed and out over the
    overlap with the next (``qsin``, as :func:`mix_graph` does); return its duration."""
    ordered = sorted(music, key=lambda m: m.start)
    starts = [max(0, round(m.start * rate)) for m in ordered]
    with FloatWavWriter(output, rate, 2) as out:
        track = _Track(out, 2)
        for k, bed in enumerate(ordered):
            length = round(max(0.0, bed.end - bed.start) * rate)
            xin = round(max(0.0, ordered[k - 1].end - bed.start) * rate) if k else 0
            xout = (round(max(0.0, bed.end - ordered[k + 1].start) * rate)
                    if k + 1 < len(ordered) else 0)
            final = starts[k + 1] if k + 1 < len(ordered) else None
            done = 0
            for block in decoded_blocks(Path(bed.path), rate, 2):
                block = block[: length - done]
                if not block.shape[0]:
                    break
                idx = np.arange(done, done + block.shape[0], dtype=np.float64)
                gain = None
                if xin > 0:
                    gain = _qsin(idx / xin)
                if xout > 0:
                    tail = _qsin((length - idx) / xout)
                    gain = tail if gain is None else gain * tail
                if gain is not None:
                    block = block * gain[:, None]
                track.add(starts[k] + done, block)
                done += block.shape[0]
                at = starts[k] + done
                track.flush(at if final is None else min(at, final))
        track.flush(track.written + track.window.shape[0])
    return out.frames / rate


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
    return the loudness of the mix before normalisation. The narrations and the
    beds are first laid into one track each (see the module docstring)."""
    rate = settings.sample_rate
    bound_heap()  # see videogen_adapters.heap
    if narrations:
        if cancel is not None:
            cancel.raise_if_cancelled()
        speech = workdir / "speech.wav"
        seconds = speech_track(narrations, rate, speech)
        narrations = [NarrationPlacement(speech, 0.0, seconds)]
    if music:
        if cancel is not None:
            cancel.raise_if_cancelled()
        bed = workdir / "music.wav"
        seconds = music_track(music, rate, bed)
        music = [MusicPlacement(bed, 0.0, seconds)]
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
