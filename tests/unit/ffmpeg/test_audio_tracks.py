"""The audio mix lays narrations and beds into one track each, streaming: exact
placement, crossfades, and an ffmpeg mix with two inputs however many scenes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.wavs import write_wav

from videogen_adapters.ffmpeg.audio import decoded_blocks, mix_audio, music_track, speech_track
from videogen_adapters.ffmpeg.runner import FfmpegRunner
from videogen_adapters.tts.wav import FloatWavWriter
from videogen_core.model import AudioSettings
from videogen_core.ports import MusicPlacement, NarrationPlacement

RATE = 48000


def _read(path: Path, channels: int) -> np.ndarray:
    return np.concatenate(list(decoded_blocks(path, RATE, channels)))


def test_float_wav_round_trips_values_beyond_full_scale(tmp_path: Path) -> None:
    data = np.linspace(-1.7, 1.7, 5000, dtype=np.float32).reshape(-1, 2)
    with FloatWavWriter(tmp_path / "f.wav", RATE, 2) as out:
        out.write(data[:1000])
        out.write(data[1000:])
    assert out.frames == 2500
    np.testing.assert_array_equal(_read(tmp_path / "f.wav", 2), data)


def test_speech_track_places_each_narration_at_its_sample(tmp_path: Path) -> None:
    tone = np.full(4800, 0.25)  # 0.1 s at the mix rate: no resampling, exact values
    write_wav(tmp_path / "a.wav", tone, RATE)
    write_wav(tmp_path / "b.wav", -tone, RATE)
    placed = [NarrationPlacement(tmp_path / "b.wav", 1.0, 0.1),
              NarrationPlacement(tmp_path / "a.wav", 0.5, 0.1),
              NarrationPlacement(tmp_path / "a.wav", 1.05, 0.1)]  # overlaps b: they add up
    seconds = speech_track(placed, RATE, tmp_path / "speech.wav")
    track = _read(tmp_path / "speech.wav", 1)[:, 0]
    assert seconds == pytest.approx(1.15) and len(track) == round(1.15 * RATE)
    level = int(0.25 * 32767) / 32768  # as tests.wavs writes it, as ffmpeg decodes it
    assert np.all(track[:24000] == 0) and np.all(track[28800:48000] == 0)
    np.testing.assert_allclose(track[24000:28800], level, atol=1e-6)
    np.testing.assert_allclose(track[48000:50400], -level, atol=1e-6)
    np.testing.assert_allclose(track[50400:52800], 0.0, atol=1e-6)  # b + a
    np.testing.assert_allclose(track[52800:], level, atol=1e-6)


def test_music_track_trims_and_crossfades_the_beds(tmp_path: Path) -> None:
    write_wav(tmp_path / "m.wav", np.full((5 * RATE, 2), 0.5), RATE)  # 5 s, longer than spans
    beds = [MusicPlacement(tmp_path / "m.wav", 2.0, 4.0), MusicPlacement(tmp_path / "m.wav",
                                                                         0.0, 3.0)]
    seconds = music_track(beds, RATE, tmp_path / "music.wav")
    track = _read(tmp_path / "music.wav", 2)
    level = int(0.5 * 32767) / 32768
    assert seconds == pytest.approx(4.0) and track.shape == (4 * RATE, 2)
    np.testing.assert_allclose(track[: 2 * RATE], level, atol=1e-6)  # the first bed alone
    mid = round(2.5 * RATE)  # middle of the 2..3 s crossfade: sin(π/4) of each
    np.testing.assert_allclose(track[mid], 2 * level * np.sin(np.pi / 4), atol=1e-4)
    out_gain = track[2 * RATE: 3 * RATE, 0] / level
    assert np.all(out_gain >= 1 - 1e-4) and np.all(out_gain <= np.sqrt(2) + 1e-4)  # equal power
    np.testing.assert_allclose(track[3 * RATE:], level, atol=1e-6)  # the second bed alone


class _Recording(FfmpegRunner):
    """A real runner that remembers every argv it ran."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[str]] = []

    def run(self, argv, **kwargs):  # type: ignore[no-untyped-def,override]
        self.calls.append(list(argv))
        return super().run(argv, **kwargs)


@pytest.mark.slow
def test_the_ffmpeg_mix_has_two_inputs_whatever_the_scene_count(tmp_path: Path) -> None:
    write_wav(tmp_path / "v.wav", 0.2 * np.sin(np.arange(11025) * 0.07), 22050)
    write_wav(tmp_path / "m.wav", np.full((3 * RATE, 2), 0.1), RATE)
    narrations = [NarrationPlacement(tmp_path / "v.wav", 0.2 + i, 0.5) for i in range(60)]
    beds = [MusicPlacement(tmp_path / "m.wav", max(0.0, 2.0 * k - 0.5), 2.0 * k + 2.5)
            for k in range(30)]
    runner = _Recording()
    mix_audio(runner, narrations, beds, 60.0, AudioSettings(), tmp_path / "a.m4a", tmp_path)
    inputs = [argv.count("-i") for argv in runner.calls]
    assert inputs and max(inputs) <= 2, inputs  # not one input per narration and bed
    assert (tmp_path / "a.m4a").stat().st_size > 10_000
