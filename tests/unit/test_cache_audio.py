"""CachingNarrator / CachingMusicSource: a repeated call is answered from the cache
with the same audio and facts; another call, token or a warning is not."""

from __future__ import annotations

from pathlib import Path

from videogen_adapters.cache import DiskCache
from videogen_adapters.cache.audio import CachingMusicSource, CachingNarrator
from videogen_adapters.config import Settings
from videogen_adapters.fakes import FakeMusicSource, FakeNarrator
from videogen_adapters.orchestrator import cached_music, cached_narrator


def test_a_repeated_narration_comes_from_the_cache(tmp_path: Path) -> None:
    inner = FakeNarrator()
    cache = DiskCache(tmp_path / "cache", 1 << 30)
    narrator = CachingNarrator(inner, cache, "token")
    first = narrator.synthesize("Hello there, world.", tmp_path / "a.wav", seed=3)
    again = narrator.synthesize("Hello there, world.", tmp_path / "b.wav", seed=3)
    assert len(inner.calls) == 1
    assert (tmp_path / "b.wav").read_bytes() == (tmp_path / "a.wav").read_bytes()
    assert again.path == tmp_path / "b.wav"
    assert (again.duration, again.cues, again.voice, again.provider) == (
        first.duration, first.cues, first.voice, first.provider)
    assert again.cues and again.cues[0].words == first.cues[0].words
    narrator.synthesize("Hello there, world.", tmp_path / "c.wav", seed=4)  # another seed
    narrator.synthesize("Hello there, world.", tmp_path / "d.wav", seed=3, speed=1.2)
    CachingNarrator(inner, cache, "other voice model").synthesize(
        "Hello there, world.", tmp_path / "e.wav", seed=3)
    assert len(inner.calls) == 4
    silent = narrator.synthesize("   ", tmp_path / "f.wav", seed=3)
    assert narrator.synthesize("   ", tmp_path / "g.wav", seed=3) == silent
    assert silent.path is None and len(inner.calls) == 5


def test_music_beds_come_from_the_cache_unless_warned(tmp_path: Path) -> None:
    inner = FakeMusicSource()
    music = CachingMusicSource(inner, DiskCache(tmp_path / "cache", 1 << 30), "t")
    bed = music.compose("calm", 10.0, tmp_path / "a.wav", seed=1)
    again = music.compose("calm", 10.0, tmp_path / "b.wav", seed=1)
    assert len(inner.calls) == 1 and (again.duration, again.mood) == (bed.duration, bed.mood)
    assert (tmp_path / "b.wav").read_bytes() == (tmp_path / "a.wav").read_bytes()
    warned = music.compose("polka", 10.0, tmp_path / "c.wav", seed=1)  # unknown mood
    assert warned.warnings
    music.compose("polka", 10.0, tmp_path / "d.wav", seed=1)
    assert len(inner.calls) == 3  # a warned bed is made again, not kept


def test_the_composition_root_caches_synth_music_and_every_narrator(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    narrator = cached_narrator(settings, FakeNarrator())
    assert isinstance(narrator, CachingNarrator)
    assert narrator.cache.root == tmp_path / ".videogen" / "cache"
    assert isinstance(cached_music(settings, FakeMusicSource()), CachingMusicSource)
    library = Settings(data_dir=tmp_path, music="library")
    assert isinstance(cached_music(library, FakeMusicSource()), FakeMusicSource)
    voiced = cached_narrator(Settings(data_dir=tmp_path, voice="joe"), FakeNarrator())
    assert isinstance(voiced, CachingNarrator) and voiced.token != narrator.token
