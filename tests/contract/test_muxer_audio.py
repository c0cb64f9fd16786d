"""FfmpegMuxer audio: narration placement, sidechain ducking, loudness, no drift at 50+ scenes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest
from tests.contract.test_muxer import render_clips
from tests.wavs import write_wav

from videogen_adapters.executors import ThreadPoolExecutorAdapter
from videogen_adapters.ffmpeg.muxer import FfmpegMuxer
from videogen_adapters.ffmpeg.probe import probe
from videogen_adapters.ffmpeg.runner import find_ffmpeg
from videogen_core.model import VideoSettings
from videogen_core.ports import MusicPlacement, MuxPlan, NarrationPlacement
from videogen_core.timeline import Timeline

MUSIC_HZ = 6300.0  # the music is a tone well above the synthetic voice's harmonics


def speech_like(seconds: float, rate: int = 22050, seed: int = 0) -> np.ndarray:
    """A voice-like signal: a gliding 120-180 Hz harmonic tone (up to ~3 kHz) gated into
    syllables (4-6 per second) with short pauses between words, about −20 dBFS RMS."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    f0 = 150 + 30 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6))
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 20))
    syllables = np.clip(np.sin(2 * np.pi * 5 * t) * 1.5 + 0.5, 0, 1)
    words = (np.sin(2 * np.pi * 0.9 * t + 1.0) > -0.8).astype(float)
    envelope = np.convolve(syllables * words, np.ones(220) / 220, mode="same")
    signal = voice * envelope
    return signal * (0.1 / np.sqrt(np.mean(signal**2)))


def music_tone(seconds: float, rate: int = 44100) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return 0.25 * np.sin(2 * np.pi * MUSIC_HZ * t)


def decode_audio(path: Path) -> tuple[np.ndarray, int]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        chunks = [f.to_ndarray().mean(axis=0) for f in container.decode(stream)]
    return np.concatenate(chunks), rate


def band_level_db(samples: np.ndarray, rate: int, start: float, end: float, hz: float) -> float:
    """Level of the narrow band around ``hz`` in [start, end) seconds, in dB."""
    seg = samples[int(start * rate):int(end * rate)]
    spectrum = np.abs(np.fft.rfft(seg * np.hanning(len(seg))))
    freqs = np.fft.rfftfreq(len(seg), 1 / rate)
    band = (freqs > hz - 40) & (freqs < hz + 40)
    return float(20 * np.log10(np.sqrt(np.sum(spectrum[band] ** 2)) + 1e-12))


def loudnorm_measure(path: Path) -> dict[str, float]:
    """Integrated loudness and true peak as loudnorm (not the muxer's ebur128) measures them."""
    run = subprocess.run([find_ffmpeg(), "-hide_banner", "-nostdin", "-i", str(path), "-map",
                          "0:a", "-af", "loudnorm=print_format=json", "-f", "null", "-"],
                         capture_output=True, text=True, check=True)
    text = run.stderr[run.stderr.rfind("{"):run.stderr.rfind("}") + 1]
    data = json.loads(text)
    return {"I": float(data["input_i"]), "TP": float(data["input_tp"])}


SETTINGS = VideoSettings(width=64, height=36, fps=12, crf=23, preset="ultrafast")


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("mix")
    timeline = Timeline.build([6.0, 6.0, 6.0], "crossfade", 0.5)
    clips = render_clips(timeline, SETTINGS, folder)
    voice = write_wav(folder / "voice.wav", speech_like(3.0), 22050)
    starts = timeline.narration_starts
    narrations = (NarrationPlacement(voice, starts[0], 3.0),
                  NarrationPlacement(voice, starts[2], 3.0))
    bed_a = write_wav(folder / "calm.wav", music_tone(12.0), 44100)
    bed_b = write_wav(folder / "tense.wav", music_tone(8.0), 44100)
    music = (MusicPlacement(bed_a, 0.0, 11.5, "calm"),
             MusicPlacement(bed_b, 9.5, timeline.total, "tense"))
    out = folder / "final.mp4"
    result = FfmpegMuxer().mux(MuxPlan(timeline, clips, narrations, music, video=SETTINGS), out)
    return {"timeline": timeline, "out": out, "result": result, "starts": starts}


def test_music_is_ducked_at_least_8_db_under_speech(mixed) -> None:
    samples, rate = decode_audio(mixed["out"])
    s0, s2 = mixed["starts"][0], mixed["starts"][2]
    under_speech = [band_level_db(samples, rate, s + 0.5, s + 2.5, MUSIC_HZ) for s in (s0, s2)]
    alone = band_level_db(samples, rate, 6.5, 8.5, MUSIC_HZ)  # no narration from ~3.3 s to 11.5 s
    for level in under_speech:
        assert alone - level >= 8.0, (alone, under_speech)


def test_loudness_target_and_true_peak(mixed) -> None:
    measured = loudnorm_measure(mixed["out"])
    assert measured["I"] == pytest.approx(-14.0, abs=1.0)
    assert measured["TP"] <= -1.0
    result = mixed["result"]
    assert result.loudness_lufs == pytest.approx(measured["I"], abs=0.5)
    assert result.true_peak_db is not None and result.true_peak_db <= -1.0


def test_narration_sits_at_its_offset(mixed) -> None:
    samples, rate = decode_audio(mixed["out"])
    # energy below 3 kHz (the voice) rises where the narration starts
    for start in (mixed["starts"][0], mixed["starts"][2]):
        before = band_level_db(samples, rate, max(0.0, start - 0.3), start - 0.05, 450.0)
        after = band_level_db(samples, rate, start + 0.05, start + 0.3, 450.0)
        assert after - before > 20


def test_audio_covers_the_whole_video(mixed) -> None:
    info = probe(mixed["out"])
    timeline = mixed["timeline"]
    assert abs(info.video_duration - timeline.total) <= 1 / SETTINGS.fps
    assert info.audio_duration >= info.video_duration - 1e-3
    assert info.audio_duration - info.video_duration < 0.05


def test_fifty_scenes_no_drift(tmp_path: Path) -> None:
    settings = VideoSettings(width=32, height=18, fps=6, crf=30, preset="ultrafast")
    durations = [1.0, 1.5, 1.25, 2.0] * 13  # 52 scenes
    timeline = Timeline.build(durations, "crossfade", 1 / 3)
    clips = render_clips(timeline, settings, tmp_path, actions=("zoom in",))
    beep = np.sin(2 * np.pi * 440 * np.arange(int(0.3 * 22050)) / 22050) * 0.3
    voice = write_wav(tmp_path / "beep.wav", beep, 22050)
    narrations = tuple(NarrationPlacement(voice, s, 0.3) for s in timeline.narration_starts)
    out = tmp_path / "long.mp4"
    pool = ThreadPoolExecutorAdapter(2)
    FfmpegMuxer().mux(MuxPlan(timeline, clips, narrations, video=settings), out, executor=pool)
    pool.shutdown()
    info = probe(out)
    assert info.frames == timeline.total_frames(settings.fps)
    assert abs(info.video_duration - timeline.total) <= 1 / settings.fps
    assert info.audio_duration >= info.video_duration - 1e-3
    assert info.audio_duration - info.video_duration < 0.05
    # the last narration starts where the timeline says: no audio drift either
    samples, rate = decode_audio(out)
    last = timeline.narration_starts[-1]
    energy = np.abs(samples[int((last - 0.2) * rate):int((last + 0.2) * rate)])
    onset = last - 0.2 + np.argmax(energy > 0.5 * energy.max()) / rate
    assert abs(onset - last) < 0.02


def test_peaky_audio_still_lands_on_the_loudness_target(tmp_path: Path) -> None:
    """Quiet speech-like audio with loud clicks: the limiter that catches the clicks
    lowers the loudness, so one computed gain misses; the correction passes must not."""
    from videogen_adapters.ffmpeg import commands
    from videogen_adapters.ffmpeg.audio import converge_loudness, measure_loudness, normalization
    from videogen_adapters.ffmpeg.runner import FfmpegRunner
    from videogen_core.model import AudioSettings

    rate = 48000
    signal = 0.02 * speech_like(8.0, rate)
    signal[::rate // 3] = 0.95  # a click every third of a second
    wav = write_wav(tmp_path / "peaky.wav", signal, rate)
    runner = FfmpegRunner()
    settings = AudioSettings()
    measured = measure_loudness(runner, wav)
    naive = tmp_path / "naive.m4a"
    runner.run(commands.normalize_args(runner.ffmpeg, wav, naive,
                                       normalization(measured, settings), rate, 8.0), stage="t")
    chain = converge_loudness(runner, wav, measured, settings, tmp_path)
    out = tmp_path / "converged.m4a"
    runner.run(commands.normalize_args(runner.ffmpeg, wav, out, chain, rate, 8.0), stage="t")
    naive_level = loudnorm_measure(naive)
    level = loudnorm_measure(out)
    assert abs(naive_level["I"] - settings.loudness_lufs) > 1.0  # the case exists
    assert abs(level["I"] - settings.loudness_lufs) <= 0.5
    assert level["TP"] <= settings.true_peak_db
