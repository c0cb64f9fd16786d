"""The composer's score and its DSP: what is written, and how it is processed."""

from __future__ import annotations

import numpy as np
import pytest

from videogen_adapters.music import instruments as ins
from videogen_adapters.music.dsp import DecimatedReverb, FdnReverb, soft_limit
from videogen_adapters.music.moods import MOODS
from videogen_adapters.music.score import MODES, STYLES, compose_score

TONAL = {"pad", "piano", "pluck", "bell", "brass", "bass"}


def _key(style, seed: int) -> int:  # type: ignore[no-untyped-def]
    return style.root + int(np.random.default_rng(seed).integers(-2, 3))


@pytest.mark.parametrize("mood", MOODS)
def test_scores_cover_the_duration_in_key(mood: str) -> None:
    style = STYLES[mood]
    events, bar = compose_score(style, 30.0, seed=11)
    assert max(e.time for e in events) > 30.0 - bar
    assert min(e.time for e in events) == 0.0
    scale = {(_key(style, 11) + s) % 12 for s in MODES[style.mode]}
    tonal = [e for e in events if e.instrument in TONAL]
    assert {e.note % 12 for e in tonal} <= scale
    assert {"pad", "bass"} <= {e.instrument for e in tonal}
    assert all(e.gain > 0 and -1 <= e.pan <= 1 and e.hold > 0 for e in events)


def test_scores_are_deterministic_and_seeded() -> None:
    a, _ = compose_score(STYLES["happy"], 20.0, seed=1)
    b, _ = compose_score(STYLES["happy"], 20.0, seed=1)
    c, _ = compose_score(STYLES["happy"], 20.0, seed=2)
    assert a == b and a != c


def test_rhythm_only_where_the_mood_wants_it() -> None:
    for mood in MOODS:
        events, _ = compose_score(STYLES[mood], 40.0, seed=3)
        drums = [e for e in events if e.instrument in {"kick", "snare", "hat", "clap", "tom"}]
        assert bool(drums) == bool(STYLES[mood].drums)


def test_reverb_decays_by_60_db_at_rt60() -> None:
    sr, rt60 = 12000, 1.0
    impulse = np.zeros((2, 3 * sr))
    impulse[:, 0] = 1.0
    tail = FdnReverb(sr, rt60, damping=0.0).process(impulse)
    energy = (tail**2).sum(axis=0)
    early = energy[int(0.1 * sr): int(0.2 * sr)].mean()
    late = energy[int(1.1 * sr): int(1.2 * sr)].mean()
    assert 10 * np.log10(early / late) == pytest.approx(60, abs=8)
    assert np.corrcoef(tail[0, sr // 10:], tail[1, sr // 10:])[0, 1] < 0.5  # wide


def test_reverb_streams_in_chunks_exactly() -> None:
    x = np.random.default_rng(0).standard_normal((2, 48000))
    whole = DecimatedReverb(48000, 1.5).process(x)
    parts = DecimatedReverb(48000, 1.5)
    joined = np.concatenate([parts.process(x[:, :20000]), parts.process(x[:, 20000:])], axis=1)
    assert np.allclose(whole, joined)


def test_soft_limit_keeps_quiet_samples_and_bounds_loud_ones() -> None:
    x = np.linspace(-3, 3, 1001)
    y = soft_limit(x, 0.89)
    assert np.abs(y).max() < 0.89
    quiet = np.abs(x) < 0.6
    assert np.array_equal(y[quiet], x[quiet])
    assert np.all(np.diff(y) >= 0)  # monotonic: no folding


def test_upsampling_is_band_limited() -> None:
    t = np.arange(4000) / 12000
    up = ins.upsample(np.sin(2 * np.pi * 1000 * t), 4)
    ref = np.sin(2 * np.pi * 1000 * np.arange(16000) / 48000)
    assert np.abs(up[400:-400] - ref[400:-400]).max() < 1e-3


@pytest.mark.parametrize("name", ["piano", "pluck", "bell", "bass", "brass"])
def test_tones_are_pitched_and_enveloped(name: str) -> None:
    sr = 48000
    tone = getattr(ins, name)(220.0, 1.0, sr)
    assert tone.ndim == 1 and np.isfinite(tone).all()
    spectrum = np.abs(np.fft.rfft(tone * np.hanning(tone.size)))
    peak = np.fft.rfftfreq(tone.size, 1 / sr)[np.argmax(spectrum)]
    assert peak == pytest.approx(220.0, rel=0.03)
    assert abs(tone[0]) < 0.01  # no click at the start


def test_pads_are_stereo_and_low_passed() -> None:
    sr = 48000
    pad = ins.pad(220.0, 1.0, sr, cutoff=1000.0)
    assert pad.shape == (2, sr) and not np.allclose(pad[0], pad[1])
    spectrum = np.abs(np.fft.rfft(pad[0]))
    f = np.fft.rfftfreq(sr, 1 / sr)
    assert spectrum[f > 4000].max() < spectrum[f < 1000].max() * 0.01


def test_drums_are_seeded() -> None:
    a = ins.snare(48000, np.random.default_rng(1))
    b = ins.snare(48000, np.random.default_rng(1))
    assert np.array_equal(a, b) and np.abs(a).max() > 0.1
