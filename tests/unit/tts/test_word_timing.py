"""Word timings: every narrator's cues carry their words, and the word starts land on
the speech onsets measured in the narration audio (``tests/word_onsets.py``)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from tests.word_onsets import narration_text, onset_errors, speech_onsets, summary

from videogen_adapters.tts import EspeakNarrator, PiperNarrator
from videogen_adapters.tts.align import (
    align_words,
    event_words,
    find_pauses,
    piper_words,
    with_words,
)
from videogen_adapters.tts.wav import read_wav
from videogen_core import Cue, Narration


def mono(narration: Narration) -> tuple[np.ndarray, int]:
    assert narration.path is not None
    audio, rate = read_wav(narration.path)
    audio = np.asarray(audio, dtype=np.float64)
    return (audio.mean(axis=1) if audio.ndim > 1 else audio), rate


def check_words(narration: Narration) -> None:
    """Every cue has its words, in order, inside the cue."""
    assert narration.cues
    for cue in narration.cues:
        assert [w.text for w in cue.words] == cue.text.split()
        assert all(cue.start <= w.start <= w.end <= cue.end for w in cue.words)
        starts = [w.start for w in cue.words]
        assert starts == sorted(starts)


@pytest.mark.slow
def test_piper_word_starts_match_the_speech_onsets(tmp_path: Path) -> None:
    narration = PiperNarrator().synthesize(narration_text(28), tmp_path / "p.wav")
    check_words(narration)
    audio, rate = mono(narration)
    result = summary(onset_errors(narration.cues, speech_onsets(audio, rate)))
    assert result["words"] >= 100
    assert result["median_ms"] <= 60 and result["p95_ms"] <= 150, result


def test_espeak_word_starts_match_the_speech_onsets(tmp_path: Path) -> None:
    narration = EspeakNarrator().synthesize(narration_text(36), tmp_path / "e.wav")
    check_words(narration)
    audio, rate = mono(narration)
    result = summary(onset_errors(narration.cues, speech_onsets(audio, rate)))
    assert result["words"] >= 100
    assert result["median_ms"] <= 60 and result["p95_ms"] <= 150, result


def test_the_reference_catches_wrong_word_times(tmp_path: Path) -> None:
    """The same measurement on word times shifted by 200 ms fails the bar: it can fail."""
    narration = EspeakNarrator().synthesize(narration_text(8), tmp_path / "e.wav")
    audio, rate = mono(narration)
    late = [c.shifted(0.2) for c in narration.cues]
    result = summary(onset_errors(late, speech_onsets(audio, rate)))
    assert result["median_ms"] > 150


# ------------------------------------------------------------ the pieces
def bursts(spans: list[tuple[float, float]], rate: int = 16000, total: float = 3.0
           ) -> np.ndarray:
    """A tone in each (start, end) span, silence elsewhere."""
    t = np.arange(int(total * rate)) / rate
    audio = np.zeros_like(t)
    for a, b in spans:
        inside = (t >= a) & (t < b)
        audio[inside] = 0.5 * np.sin(2 * np.pi * 220 * t[inside])
    return audio


def test_align_words_snaps_to_the_gaps_between_words() -> None:
    spans = [(0.2, 0.5), (0.6, 1.3), (1.45, 1.7), (2.0, 2.6)]
    audio = bursts(spans)
    words = align_words(["one", "extraordinary", "two,", "three"], audio, 16000, 0.0, 3.0)
    for word, (a, b) in zip(words, spans, strict=True):
        assert word.start == pytest.approx(a, abs=0.02)
        assert word.end == pytest.approx(b, abs=0.02)


def test_with_words_keeps_the_cue_and_times_its_words() -> None:
    audio = bursts([(1.0, 1.4), (1.5, 2.0)])
    cue = with_words(Cue(0.9, 2.1, "hello world"), audio, 16000)
    assert (cue.start, cue.end, cue.text) == (0.9, 2.1, "hello world")
    assert [w.text for w in cue.words] == ["hello", "world"]
    assert cue.words[1].start == pytest.approx(1.5, abs=0.02)


def test_piper_words_from_phoneme_alignments() -> None:
    def al(phoneme: str, samples: int) -> SimpleNamespace:
        return SimpleNamespace(phoneme=phoneme, num_samples=samples)

    # "^ h i ␠ 1 2 ␠ 3 , $" at 100 samples per second: "hi" then "12," (two groups)
    chunk = SimpleNamespace(
        phoneme_alignments=[al("^", 10), al("h", 20), al("i", 20), al(" ", 30),
                            al("w", 10), al(" ", 5), al("t", 15), al(",", 40), al("$", 10)],
        audio_float_array=np.zeros(160))

    def phonemize(word: str) -> list[list[str]]:
        return [["h", "i"]] if word == "hi" else [["w", " ", "t", ","]]

    words = piper_words(["hi", "12,"], phonemize, [chunk], 100)
    assert words is not None
    assert [(w.text, w.start, w.end) for w in words] == [("hi", 0.1, 0.5), ("12,", 0.8, 1.1)]
    # a word count that does not add up: no guessing, the caller aligns on the audio
    assert piper_words(["hi"], phonemize, [chunk], 100) is None
    assert piper_words(["hi", "12,"], phonemize, [SimpleNamespace(
        phoneme_alignments=None, audio_float_array=np.zeros(10))], 100) is None


def test_event_words_from_word_events() -> None:
    audio = bursts([(0.1, 0.4), (0.5, 0.9)], total=1.2)
    words = event_words("good morning", [(0, 100), (5, 500)], audio, 16000)
    assert words is not None
    assert [(w.text, w.start) for w in words] == [("good", 0.1), ("morning", 0.5)]
    assert words[0].end == pytest.approx(0.4, abs=0.02)
    assert event_words("good morning", [(0, 100)], audio, 16000) is None  # one missing


def test_pause_times_do_not_drift_at_22050_hz() -> None:
    """10 ms frames are 221 samples at 22,050 Hz: times must come from the samples, not
    from frame index x 0.01 s (60 s in, that was 0.14 s late)."""
    rate = 22050
    audio = bursts([(1.0, 2.0), (60.0, 61.0)], rate=rate, total=62.0)
    span, pauses = find_pauses(audio, rate)
    assert span is not None
    assert pauses[0] == pytest.approx((2.0, 60.0), abs=0.011)
    assert span[1] == pytest.approx(61.0, abs=0.011)
