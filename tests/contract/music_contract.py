"""The ``MusicSource`` contract: one suite, subclassed per adapter.

A subclass provides a class-scoped ``source`` fixture and may set
``makes_sound = False`` (the silent source) or ``varies_with_seed = False``.
Beds are checked by reading the WAV: 48 kHz stereo 16-bit, at least the
requested length, deterministic by seed, moods resolved with warnings.
"""

from __future__ import annotations

import math
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from videogen_core import InvalidRequest, MusicBed

DURATION = 12.0


def read_bed(path: Path) -> tuple[np.ndarray, int, int, int]:
    """(float samples (n, channels), rate, channels, sample width) of a WAV."""
    with wave.open(str(path), "rb") as w:
        rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        raw = w.readframes(w.getnframes())
    data = np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0
    return data.reshape(-1, channels), rate, channels, width


def rms_db(x: np.ndarray) -> float:
    """RMS level in dBFS (−inf for silence)."""
    value = float(np.sqrt(np.mean(np.square(x)))) if x.size else 0.0
    return 20 * math.log10(value) if value > 0 else -math.inf


class MusicSourceContract:
    """Behaviour every music source must show."""

    makes_sound = True
    varies_with_seed = True

    @pytest.fixture(scope="class")
    @classmethod
    def source(cls) -> Any:  # pragma: no cover - provided by subclasses
        raise NotImplementedError

    @pytest.fixture(scope="class")
    @classmethod
    def mood(cls, source: Any) -> str:
        moods = source.moods()
        return "calm" if "calm" in moods else moods[0]

    @pytest.fixture(scope="class")
    @classmethod
    def bed(cls, source: Any, mood: str, tmp_path_factory: pytest.TempPathFactory) -> MusicBed:
        return source.compose(mood, DURATION, tmp_path_factory.mktemp("bed") / "bed.wav", seed=7)

    def test_lists_moods(self, source: Any) -> None:
        moods = source.moods()
        assert moods and all(isinstance(m, str) and m for m in moods)

    def test_known_mood_is_used_without_warning(self, bed: MusicBed, mood: str) -> None:
        assert bed.mood == mood and bed.warnings == ()

    def test_wav_is_48k_stereo_16bit_of_the_requested_length(self, bed: MusicBed) -> None:
        audio, rate, channels, width = read_bed(bed.path)
        assert (rate, channels, width) == (48000, 2, 2)
        assert DURATION <= len(audio) / rate + 1e-3 < DURATION + 0.05
        assert abs(len(audio) / rate - bed.duration) < 1e-3

    def test_sound(self, bed: MusicBed) -> None:
        audio, *_ = read_bed(bed.path)
        if not self.makes_sound:
            assert not audio.any()
            return
        middle = audio[len(audio) // 4: 3 * len(audio) // 4]
        assert -30 < rms_db(middle) < -8
        assert np.abs(audio).max() < 0.99  # no clipping
        # faded in and out: the very edges are much quieter than the middle
        edge = 480  # 10 ms
        assert rms_db(audio[:edge]) < rms_db(middle) - 20
        assert rms_db(audio[-edge:]) < rms_db(middle) - 20

    def test_same_seed_same_samples(self, source: Any, bed: MusicBed, mood: str,
                                    tmp_path: Path) -> None:
        again = source.compose(mood, DURATION, tmp_path / "again.wav", seed=7)
        assert again.path.read_bytes() == bed.path.read_bytes()

    def test_other_seed_other_music(self, source: Any, bed: MusicBed, mood: str,
                                    tmp_path: Path) -> None:
        if not self.varies_with_seed:
            return
        first = bed.path.read_bytes()
        assert any(source.compose(mood, DURATION, tmp_path / f"s{s}.wav", seed=s).path.read_bytes()
                   != first for s in (8, 9, 10, 11))  # any() stops at the first difference

    @pytest.mark.parametrize("duration", [0.4, 3.33])
    def test_any_duration_is_covered(self, source: Any, mood: str, duration: float,
                                     tmp_path: Path) -> None:
        result = source.compose(mood, duration, tmp_path / "d.wav", seed=1)
        audio, rate, *_ = read_bed(result.path)
        assert abs(len(audio) / rate - duration) < 1e-3

    def test_unknown_mood_maps_to_a_known_one_with_a_warning(
        self, source: Any, tmp_path: Path
    ) -> None:
        result = source.compose("qwxyzzy", 1.0, tmp_path / "u.wav", seed=1)
        assert result.mood in source.moods()
        assert result.warnings and "qwxyzzy" in result.warnings[0]

    def test_synonyms_find_their_mood(self, source: Any, tmp_path: Path) -> None:
        result = source.compose("Joyful", 1.0, tmp_path / "j.wav", seed=1)
        assert result.mood in source.moods() and result.warnings

    def test_empty_mood_is_a_neutral_default(self, source: Any, tmp_path: Path) -> None:
        result = source.compose("  ", 1.0, tmp_path / "e.wav", seed=1)
        assert result.mood in source.moods()

    @pytest.mark.parametrize("duration", [0.0, -2.0, math.nan, math.inf])
    def test_bad_duration_is_invalid(self, source: Any, duration: float, tmp_path: Path) -> None:
        with pytest.raises(InvalidRequest):
            source.compose("calm", duration, tmp_path / "x.wav", seed=1)
        assert not (tmp_path / "x.wav").exists()

    def test_no_temporary_files_left(self, bed: MusicBed) -> None:
        assert [p.name for p in bed.path.parent.iterdir()] == [bed.path.name]

    def test_cancel_is_checked_while_composing(self, source: Any, mood: str,
                                               tmp_path: Path) -> None:
        """A long bed stops between blocks once the job's token fires."""
        from videogen_core import Cancelled, CancelToken

        class FiresOnSecondCheck(CancelToken):
            checks = 0

            def raise_if_cancelled(self) -> None:
                self.checks += 1
                if self.checks == 2:
                    self.cancel()
                super().raise_if_cancelled()

        token = FiresOnSecondCheck()
        with pytest.raises(Cancelled):
            source.compose(mood, 60.0, tmp_path / "long.wav", seed=1, cancel=token)
        assert token.checks == 2  # checked again between blocks, not only at the start
