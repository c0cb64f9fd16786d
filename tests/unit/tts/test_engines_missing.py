"""Narrators whose engine is not installed fail with ServiceUnavailable (so a
fallback chain can move on), never with an ImportError."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from videogen_adapters.tts import EspeakNarrator, FallbackNarrator, PiperNarrator, SilentNarrator
from videogen_adapters.tts import espeak as espeak_module
from videogen_adapters.tts import piper as piper_module
from videogen_core import ServiceUnavailable


@pytest.fixture
def no_piper(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "piper", None)  # import piper → ImportError
    monkeypatch.setattr(piper_module, "_LOADED", {})


@pytest.fixture
def no_espeak(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "espeakng_loader", None)
    monkeypatch.setattr(espeak_module._Engine, "_instance", None)


def test_piper_not_installed(no_piper: None, tmp_path: Path) -> None:
    with pytest.raises(ServiceUnavailable, match="piper-tts is not installed"):
        PiperNarrator().synthesize("Hello.", tmp_path / "a.wav")


def test_espeak_not_installed(no_espeak: None, tmp_path: Path) -> None:
    with pytest.raises(ServiceUnavailable, match="eSpeak NG library not available"):
        EspeakNarrator().synthesize("Hello.", tmp_path / "a.wav")


def test_chain_moves_past_missing_engines(no_piper: None, no_espeak: None,
                                          tmp_path: Path) -> None:
    chain = FallbackNarrator([PiperNarrator(), EspeakNarrator(), SilentNarrator()])
    result = chain.synthesize("Hello.", tmp_path / "a.wav")
    assert result.provider == "silent"
    assert len(result.warnings) == 2
    assert all(w.endswith("narration spoken by silent") for w in result.warnings)
    assert chain.voices() == ["en_US-joe-medium", "silent"]  # espeak cannot list any


def test_piper_voice_file_gone(tmp_path: Path) -> None:
    model = tmp_path / "gone.onnx"
    model.write_bytes(b"x")
    (tmp_path / "gone.onnx.json").write_text("{}")
    narrator = PiperNarrator([model], include_bundled=False)
    model.unlink()
    from videogen_core import RenderFailed

    with pytest.raises(RenderFailed, match="gone"):
        narrator.synthesize("Hello.", tmp_path / "a.wav")
