"""The ``Narrator`` contract: one suite, subclassed per adapter.

A subclass provides a class-scoped ``narrator`` fixture (real synthesis) and
may set ``produces_sound = False`` (the silent fake) or ``unknown_voice``.
Audio is checked by reading the WAV the narrator wrote: format, duration,
loudness, and that every cue sits on the speech it carries (within 100 ms).
"""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from videogen_core import Narration, UnknownVoice

TEXT = ("The river runs quietly through the valley. Birds rise over the hills at dawn! "
        "Is anyone listening? Night falls at last.")

#: Largest error allowed between a cue edge and the speech it carries.
ALIGN_TOLERANCE = 0.1


def read_pcm(path: Path) -> tuple[np.ndarray, int, int, int]:
    """(float samples, rate, channels, sample width) of a WAV file."""
    with wave.open(str(path), "rb") as w:
        rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        raw = w.readframes(w.getnframes())
    data = np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0
    return data, rate, channels, width


def loud_frames(audio: np.ndarray, rate: int, frame: float = 0.005,
                threshold_db: float = -30.0) -> np.ndarray:
    """Times (frame starts, s) of frames whose RMS is within ``threshold_db`` of the peak."""
    hop = int(rate * frame)
    n = len(audio) // hop
    rms = np.sqrt((audio[: n * hop].reshape(n, hop) ** 2).mean(axis=1))
    return np.flatnonzero(rms >= rms.max() * 10 ** (threshold_db / 20)) * frame


class NarratorContract:
    """Behaviour every narrator must show."""

    produces_sound = True
    unknown_voice = "no-such-voice-xyz"

    @pytest.fixture(scope="class")
    @classmethod
    def narrator(cls) -> Any:  # pragma: no cover - provided by subclasses
        raise NotImplementedError

    @pytest.fixture(scope="class")
    @classmethod
    def spoken(cls, narrator: Any, tmp_path_factory: pytest.TempPathFactory) -> Narration:
        out = tmp_path_factory.mktemp("narration") / "speech.wav"
        return narrator.synthesize(TEXT, out)

    # ---------------------------------------------------------------- voices
    def test_lists_voices(self, narrator: Any) -> None:
        voices = narrator.voices()
        assert voices and all(isinstance(v, str) and v for v in voices)

    def test_reports_the_voice_and_provider(self, narrator: Any, spoken: Narration) -> None:
        assert spoken.voice in narrator.voices()
        assert spoken.provider

    def test_unknown_voice_lists_available(self, narrator: Any, tmp_path: Path) -> None:
        with pytest.raises(UnknownVoice) as info:
            narrator.synthesize("Hello.", tmp_path / "x.wav", voice=self.unknown_voice)
        assert info.value.details["available"]
        assert not (tmp_path / "x.wav").exists()

    # ----------------------------------------------------------------- audio
    def test_wav_matches_narration(self, spoken: Narration) -> None:
        assert spoken.path is not None and spoken.path.is_file()
        audio, rate, channels, width = read_pcm(spoken.path)
        assert (channels, width) == (1, 2)
        assert rate == spoken.sample_rate
        assert abs(len(audio) / rate - spoken.duration) < 0.002
        assert 2.0 < spoken.duration < 30.0

    def test_speech_is_not_silence(self, spoken: Narration) -> None:
        audio, *_ = read_pcm(spoken.path)  # type: ignore[arg-type]
        rms = float(np.sqrt((audio**2).mean()))
        if self.produces_sound:
            assert rms > 0.01
        else:
            assert rms == 0.0

    def test_no_temporary_files_left(self, spoken: Narration) -> None:
        assert spoken.path is not None
        assert [p.name for p in spoken.path.parent.iterdir()] == [spoken.path.name]

    # ------------------------------------------------------------------ cues
    def test_cues_are_ordered_and_inside_the_audio(self, spoken: Narration) -> None:
        assert spoken.cues
        last_end = 0.0
        for cue in spoken.cues:
            assert last_end <= cue.start < cue.end <= spoken.duration + 1e-6
            last_end = cue.end

    def test_cues_carry_the_whole_text(self, spoken: Narration) -> None:
        assert " ".join(c.text for c in spoken.cues).split() == TEXT.split()

    def test_cues_sit_on_the_speech(self, spoken: Narration) -> None:
        if not self.produces_sound:  # no speech: cues spread over the whole file
            assert spoken.cues[0].start == 0.0
            assert abs(spoken.cues[-1].end - spoken.duration) < 0.002
            return
        audio, rate, *_ = read_pcm(spoken.path)  # type: ignore[arg-type]
        loud = loud_frames(audio, rate)
        cues = spoken.cues
        for i, cue in enumerate(cues):
            # the speech of this cue: loud frames nearer to it than to its neighbours
            lo = (cues[i - 1].end + cue.start) / 2 if i else 0.0
            hi = (cue.end + cues[i + 1].start) / 2 if i + 1 < len(cues) else spoken.duration
            mine = loud[(loud >= lo) & (loud < hi)]
            assert mine.size, f"no speech under cue {cue}"
            onset, offset = mine[0], mine[-1] + 0.005
            assert abs(onset - cue.start) <= ALIGN_TOLERANCE, (cue, onset)
            assert abs(offset - cue.end) <= ALIGN_TOLERANCE, (cue, offset)

    # -------------------------------------------------------------- behaviour
    @pytest.mark.parametrize("text", ["", "   \n\t "])
    def test_empty_text_is_silence_without_error(
        self, narrator: Any, tmp_path: Path, text: str
    ) -> None:
        result = narrator.synthesize(text, tmp_path / "empty.wav")
        assert result.path is None and result.duration == 0.0 and result.cues == ()

    def test_faster_speed_gives_shorter_audio(
        self, narrator: Any, spoken: Narration, tmp_path: Path
    ) -> None:
        fast = narrator.synthesize(TEXT, tmp_path / "fast.wav", speed=1.5)
        assert fast.duration < spoken.duration * 0.85
        assert len(fast.cues) == len(spoken.cues)

    def test_a_cancelled_token_stops_it_and_writes_nothing(
        self, narrator: Any, tmp_path: Path
    ) -> None:
        from videogen_core import Cancelled, CancelToken

        token = CancelToken()
        token.cancel()
        with pytest.raises(Cancelled):
            narrator.synthesize(TEXT, tmp_path / "cancelled.wav", seed=3, cancel=token)
        assert not (tmp_path / "cancelled.wav").exists()
