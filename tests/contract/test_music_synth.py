"""SynthMusicSource against the MusicSource contract, and a listen to every mood:
chords, rhythm, stereo, level."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest
from tests.contract.music_contract import MusicSourceContract, read_bed, rms_db

from videogen_adapters.config import Settings
from videogen_adapters.music import MOODS, SynthMusicSource, build_music_source
from videogen_adapters.music.score import MODES, STYLES, _chord


class TestSynthMusicSource(MusicSourceContract):
    @pytest.fixture(scope="class")
    @classmethod
    def source(cls) -> SynthMusicSource:
        return SynthMusicSource()


def _chroma(segment: np.ndarray, sr: int) -> np.ndarray:
    spec = np.abs(np.fft.rfft(segment * np.hanning(len(segment)))) ** 2
    f = np.fft.rfftfreq(len(segment), 1 / sr)
    band = (f > 100) & (f < 2000)
    pc = np.round(12 * np.log2(f[band] / 440) + 69).astype(int) % 12
    return np.bincount(pc, weights=spec[band], minlength=12)


def _onset_period(mono: np.ndarray, sr: int, hop: int = 256) -> float:
    frames = np.lib.stride_tricks.sliding_window_view(mono, 1024)[::hop] * np.hanning(1024)
    mag = np.abs(np.fft.rfft(frames, axis=1))
    flux = np.maximum(0, np.diff(np.log1p(10 * mag), axis=0)).sum(axis=1)
    flux -= flux.mean()
    ac = np.correlate(flux, flux, "full")[len(flux) - 1:]
    lo, hi = int(0.1 * sr / hop), int(2.5 * sr / hop)
    return float((lo + np.argmax(ac[lo:hi])) * hop / sr)


@pytest.fixture(scope="module")
def beds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("moods")
    source = SynthMusicSource()
    return {m: source.compose(m, 20.0, out / f"{m}.wav", seed=3).path for m in MOODS}


@pytest.mark.parametrize("mood", MOODS)
def test_each_mood_plays_its_chords(mood: str, beds: dict[str, Path]) -> None:
    """Bar by bar, the strongest pitch classes are the chord the score says, in key."""
    audio, sr, *_ = read_bed(beds[mood])
    mono = audio.mean(axis=1)
    style = STYLES[mood]
    rng = np.random.default_rng((3 * 1_000_003 + zlib.crc32(mood.encode())) & 0xFFFFFFFF)
    key_root = style.root + int(rng.integers(-2, 3))
    progression = style.progressions[int(rng.integers(len(style.progressions)))]
    scale = {(key_root + s) % 12 for s in MODES[style.mode]}
    bar = 240 / style.bpm
    on_chord, bars = 0, 0
    whole = _chroma(mono[sr: -2 * sr], sr)
    assert whole[list(scale)].sum() / whole.sum() > 0.8  # in key
    for b in range(1, int(20 / bar) - 1):
        chroma = _chroma(mono[int((b * bar + 0.1) * sr): int(((b + 1) * bar - 0.05) * sr)], sr)
        degree = progression[(b // style.bars_per_chord) % len(progression)]
        chord = {p % 12 for p in _chord(style, degree, key_root)}
        top = set(np.argsort(chroma)[-3:].tolist())
        on_chord += len(top & chord) >= 2
        bars += 1
    assert bars >= 3
    assert on_chord / bars >= 0.75, (on_chord, bars)


@pytest.mark.parametrize("mood", [m for m in MOODS if STYLES[m].drums])
def test_rhythmic_moods_pulse_at_their_tempo(mood: str, beds: dict[str, Path]) -> None:
    audio, sr, *_ = read_bed(beds[mood])
    period = _onset_period(audio.mean(axis=1), sr)
    sixteenth = 15 / STYLES[mood].bpm
    multiple = period / sixteenth
    assert abs(multiple - round(multiple)) < 0.15, (period, sixteenth)


@pytest.mark.parametrize("mood", MOODS)
def test_each_mood_is_stereo_and_levelled(mood: str, beds: dict[str, Path]) -> None:
    audio, *_ = read_bed(beds[mood])
    body = audio[48000:-3 * 48000]
    assert np.corrcoef(body[:, 0], body[:, 1])[0, 1] < 0.99  # not dual mono
    assert -21 < rms_db(body) < -13
    assert np.abs(audio).max() < 0.9  # soft limiter ceiling (−1 dBFS)


def test_moods_differ_in_tempo_and_key() -> None:
    assert len({STYLES[m].bpm for m in MOODS}) >= 8
    assert {STYLES[m].mode for m in MOODS} >= {"ionian", "aeolian"}


def test_chunks_join_without_clicks(tmp_path: Path) -> None:
    """Beds are mixed in 10 s chunks: nothing jumps at the joins."""
    audio, sr, *_ = read_bed(SynthMusicSource().compose("happy", 25.0, tmp_path / "h.wav",
                                                        seed=5).path)
    jumps = np.abs(np.diff(audio[:, 0]))
    typical = np.percentile(jumps, 99.9)
    for join in (10 * sr, 20 * sr):
        assert jumps[join - 3: join + 3].max() <= typical


def test_build_music_source_synth() -> None:
    assert isinstance(build_music_source(Settings(music="synth")), SynthMusicSource)
