"""PiperNarrator against the Narrator contract (real neural synthesis, bundled voice)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.contract.narrator_contract import TEXT, NarratorContract

from videogen_adapters.tts import BUNDLED_VOICE, PiperNarrator
from videogen_core import InvalidRequest


class TestPiperNarrator(NarratorContract):
    @pytest.fixture(scope="class")
    @classmethod
    def narrator(cls) -> PiperNarrator:
        return PiperNarrator()


def test_bundled_voice_is_the_default() -> None:
    assert PiperNarrator().voices() == [BUNDLED_VOICE]


def test_a_voice_by_path_is_listed_and_loadable(tmp_path: Path) -> None:
    from videogen_adapters.tts.piper import bundled_voice_path

    bundled = bundled_voice_path()
    assert bundled is not None
    (tmp_path / "en_US-other-medium.onnx").symlink_to(bundled)
    (tmp_path / "en_US-other-medium.onnx.json").symlink_to(
        bundled.with_name(bundled.name + ".json"))
    narrator = PiperNarrator([tmp_path])
    assert narrator.voices() == ["en_US-other-medium", BUNDLED_VOICE]
    result = narrator.synthesize("Hi.", tmp_path / "o.wav")
    assert result.voice == "en_US-other-medium" and result.duration > 0.2


def test_a_missing_voice_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest, match="piper_voice_path"):
        PiperNarrator([tmp_path / "nope.onnx"])


def test_short_voice_name_finds_the_voice(tmp_path: Path) -> None:
    result = PiperNarrator().synthesize(TEXT.split(".")[0] + ".", tmp_path / "j.wav",
                                        voice="joe")
    assert result.voice == BUNDLED_VOICE


def test_model_is_loaded_once_across_threads(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from videogen_adapters.tts import piper

    piper._LOADED.clear()
    narrator = PiperNarrator()
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: narrator.synthesize(f"Number {i}.",
                                                              tmp_path / f"{i}.wav"), range(4)))
    assert len(piper._LOADED) == 1
    assert PiperNarrator()._voice(BUNDLED_VOICE) is next(iter(piper._LOADED.values()))
    assert all(r.duration > 0.3 for r in results)


def test_long_sentences_become_caption_sized_cues_on_the_speech(tmp_path: Path) -> None:
    text = ("When the sun finally rose over the silent valley, the travellers gathered their "
            "things and walked on towards the distant hills.")
    result = PiperNarrator().synthesize(text, tmp_path / "long.wav")
    assert len(result.cues) == 2 and all(len(c.text) <= 84 for c in result.cues)
    assert " ".join(c.text for c in result.cues) == text
    first, second = result.cues
    assert first.end < second.start  # the comma's pause separates them


def test_deterministic_mode_repeats_itself(tmp_path: Path) -> None:
    narrator = PiperNarrator(deterministic=True)
    a = narrator.synthesize("Same words, same sound.", tmp_path / "a.wav")
    b = narrator.synthesize("Same words, same sound.", tmp_path / "b.wav")
    assert a.path.read_bytes() == b.path.read_bytes()  # type: ignore[union-attr]


def test_deterministic_mode_is_a_setting(tmp_path: Path) -> None:
    from videogen_adapters.config import Settings
    from videogen_adapters.tts import build_narrator

    narrator = build_narrator(Settings.from_env({"VIDEOGEN_TTS_DETERMINISTIC": "true"}))
    assert isinstance(narrator, PiperNarrator) and narrator.deterministic
    a = narrator.synthesize("Set once, same every time.", tmp_path / "a.wav")
    b = narrator.synthesize("Set once, same every time.", tmp_path / "b.wav")
    assert a.path.read_bytes() == b.path.read_bytes()  # type: ignore[union-attr]
    default = build_narrator(Settings.from_env({}))
    assert isinstance(default, PiperNarrator) and not default.deterministic


def test_check_loads_the_default_voice() -> None:
    assert BUNDLED_VOICE in PiperNarrator().check()
