"""FallbackNarrator and SilentNarrator against the Narrator contract, and the chain's
fall-through rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.contract.narrator_contract import NarratorContract
from tests.fixtures.tts.speech_server import free_port

from videogen_adapters.config import Settings
from videogen_adapters.tts import (
    EspeakNarrator,
    FallbackNarrator,
    HttpSpeechNarrator,
    PiperNarrator,
    SilentNarrator,
    build_narrator,
)
from videogen_core import Narration, RenderFailed, ServiceUnavailable, UnknownVoice


class Broken:
    """A narrator whose engine is down."""

    name = "broken"

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error or ServiceUnavailable("broken", "engine down")

    def voices(self) -> list[str]:
        return ["en_US-joe-medium"]

    def synthesize(self, text: str, output_path: Path, *, voice: str | None = None,
                   speed: float = 1.0, **_: object) -> Narration:
        raise self.error


class TestSilentNarrator(NarratorContract):
    produces_sound = False

    @pytest.fixture(scope="class")
    @classmethod
    def narrator(cls) -> SilentNarrator:
        return SilentNarrator()


class TestFallbackChain(NarratorContract):
    """A dead HTTP endpoint first, then Piper: every call falls through to Piper."""

    @pytest.fixture(scope="class")
    @classmethod
    def narrator(cls) -> FallbackNarrator:
        import httpx

        dead = HttpSpeechNarrator(httpx.Client(base_url=f"http://127.0.0.1:{free_port()}"),
                                  retries=0, voice_names=["alloy"])
        return FallbackNarrator([dead, PiperNarrator()])

    def test_the_fallback_is_reported(self, spoken: Narration) -> None:
        assert spoken.provider == "piper"
        assert any("http failed" in w and "cannot connect" in w for w in spoken.warnings)


def test_silent_is_deterministic(tmp_path: Path) -> None:
    a = SilentNarrator().synthesize("One. Two three.", tmp_path / "a.wav")
    b = SilentNarrator().synthesize("One. Two three.", tmp_path / "b.wav")
    assert a.duration == b.duration and a.cues == b.cues
    assert a.path.read_bytes() == b.path.read_bytes()  # type: ignore[union-attr]


def test_first_working_provider_speaks_without_warnings(tmp_path: Path) -> None:
    result = FallbackNarrator([SilentNarrator(), Broken()]).synthesize("Hi.", tmp_path / "a.wav")
    assert result.provider == "silent" and result.warnings == ()


@pytest.mark.parametrize("error", [ServiceUnavailable("x", "down"), RenderFailed("tts", "bad"),
                                   ImportError("no module")])
def test_failures_fall_through_with_a_warning(error: Exception, tmp_path: Path) -> None:
    chain = FallbackNarrator([Broken(error), SilentNarrator()])
    result = chain.synthesize("Hello there.", tmp_path / "a.wav")
    assert result.provider == "silent"
    assert result.warnings and "broken failed" in result.warnings[0]


def test_all_failing_is_service_unavailable(tmp_path: Path) -> None:
    with pytest.raises(ServiceUnavailable, match="every narrator failed"):
        FallbackNarrator([Broken(), Broken()]).synthesize("Hi.", tmp_path / "a.wav")


def test_a_voice_of_a_later_provider_is_used(tmp_path: Path) -> None:
    chain = FallbackNarrator([SilentNarrator(), EspeakNarrator()])
    result = chain.synthesize("Bonjour.", tmp_path / "a.wav", voice="fr-fr")
    assert result.provider == "espeak" and result.voice == "fr-fr"
    assert result.warnings == ()


def test_a_voice_nobody_has_is_unknown_listing_all(tmp_path: Path) -> None:
    chain = FallbackNarrator([SilentNarrator(["a"]), SilentNarrator(["b"])])
    with pytest.raises(UnknownVoice) as info:
        chain.synthesize("Hi.", tmp_path / "a.wav", voice="zz")
    assert info.value.details["available"] == ["a", "b"]


def test_after_a_failure_the_next_provider_uses_its_own_voice(tmp_path: Path) -> None:
    chain = FallbackNarrator([Broken(), SilentNarrator(["quiet"])])
    result = chain.synthesize("Hi.", tmp_path / "a.wav", voice="en_US-joe-medium")
    assert result.provider == "silent" and result.voice == "quiet"
    assert any("has no voice" in w for w in result.warnings)


@pytest.mark.parametrize(("name", "kind"), [("piper", PiperNarrator), ("espeak", EspeakNarrator),
                                            ("silent", SilentNarrator),
                                            ("chain", FallbackNarrator)])
def test_build_narrator(name: str, kind: Any) -> None:
    narrator = build_narrator(Settings(narrator=name, narrator_chain="piper, espeak"))
    assert isinstance(narrator, kind)
    if name == "chain":
        assert [n.name for n in narrator.narrators] == ["piper", "espeak"]


def test_checks() -> None:
    assert "languages" in EspeakNarrator().check()
    assert SilentNarrator().check().startswith("silent")
    report = FallbackNarrator([Broken(), SilentNarrator()]).check()
    assert "broken: ok" in report and "silent" in report  # Broken has no check()
    import httpx

    dead = HttpSpeechNarrator(httpx.Client(base_url=f"http://127.0.0.1:{free_port()}"))
    assert "http: " in FallbackNarrator([dead, SilentNarrator()]).check()
    with pytest.raises(ServiceUnavailable, match="no narrator works"):
        FallbackNarrator([dead]).check()
