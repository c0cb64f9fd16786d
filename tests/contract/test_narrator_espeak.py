"""EspeakNarrator against the Narrator contract (eSpeak NG through ctypes)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from tests.contract.narrator_contract import NarratorContract, read_pcm

from videogen_adapters.tts import EspeakNarrator


class TestEspeakNarrator(NarratorContract):
    @pytest.fixture(scope="class")
    @classmethod
    def narrator(cls) -> EspeakNarrator:
        return EspeakNarrator()


def test_many_languages_are_listed() -> None:
    voices = EspeakNarrator().voices()
    assert len(voices) > 100
    assert {"en-us", "fr-fr", "de", "es"} <= set(voices)


@pytest.mark.parametrize("voice", ["fr-fr", "de+f3", "English (America)"])
def test_languages_and_variants_speak(voice: str, tmp_path: Path) -> None:
    result = EspeakNarrator().synthesize("Bonjour. Guten Tag.", tmp_path / "v.wav", voice=voice)
    assert result.duration > 0.5
    audio, *_ = read_pcm(result.path)  # type: ignore[arg-type]
    assert abs(audio).max() > 0.05


def test_unknown_variant_is_an_unknown_voice(tmp_path: Path) -> None:
    from videogen_core import UnknownVoice

    with pytest.raises(UnknownVoice):
        EspeakNarrator().synthesize("Hi.", tmp_path / "v.wav", voice="en-us+nosuchvariant")


def test_long_sentences_are_split_into_caption_sized_cues(tmp_path: Path) -> None:
    text = ("This sentence is deliberately long, so that it cannot fit into two lines of a "
            "caption, and the narrator must split it at word boundaries using word timings.")
    result = EspeakNarrator().synthesize(text, tmp_path / "l.wav")
    assert len(result.cues) >= 2
    assert all(len(c.text) <= 84 for c in result.cues)
    assert " ".join(c.text for c in result.cues) == text


def test_threads_share_the_engine_safely(tmp_path: Path) -> None:
    narrator = EspeakNarrator()
    texts = [f"Sentence number {i} is spoken here." for i in range(6)]
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda i: narrator.synthesize(texts[i], tmp_path / f"{i}.wav"),
                                range(6)))
    alone = narrator.synthesize(texts[3], tmp_path / "alone.wav")
    # same text → the same speech (to a few samples), whatever ran beside it
    assert abs(results[3].duration - alone.duration) < 0.005
    assert [c.text for c in results[3].cues] == [c.text for c in alone.cues]
    assert [c.text for r in results for c in r.cues] == texts
