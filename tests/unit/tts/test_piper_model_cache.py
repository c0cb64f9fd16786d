"""The seeded Piper model is rewritten once and then loaded from disk by later
processes (no ``onnx`` import, no rewrite)."""

from __future__ import annotations

import sys
from pathlib import Path

from videogen_adapters.tts import piper_noise
from videogen_adapters.tts.piper import bundled_voice_path


def test_the_rewrite_is_cached_and_reused_without_onnx(tmp_path: Path, monkeypatch) -> None:
    model = bundled_voice_path()
    assert model is not None
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first, count = piper_noise.cached_seeded_model(model)
    assert isinstance(first, bytes) and count >= 1
    [stored] = (tmp_path / "videogen" / "piper").glob("*.onnx")
    assert stored.read_bytes() == first  # the very bytes the rewrite made
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx → ImportError
    again, count_again = piper_noise.cached_seeded_model(model)
    assert again == stored and count_again == count


def test_a_changed_rewrite_version_is_not_reused(tmp_path: Path, monkeypatch) -> None:
    model = bundled_voice_path()
    assert model is not None
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    piper_noise.cached_seeded_model(model)
    monkeypatch.setattr(piper_noise, "REWRITE_VERSION", piper_noise.REWRITE_VERSION + 1)
    fresh, _ = piper_noise.cached_seeded_model(model)
    assert isinstance(fresh, bytes)  # rewritten again, not the old file
    assert len(list((tmp_path / "videogen" / "piper").glob("*.onnx"))) == 2


def test_an_unwritable_cache_still_gives_the_model(tmp_path: Path, monkeypatch) -> None:
    model = bundled_voice_path()
    assert model is not None
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    data, count = piper_noise.cached_seeded_model(model)
    assert isinstance(data, bytes) and count >= 1
