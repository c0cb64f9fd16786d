"""Narrations and music beds from the cache: a re-run does not speak or compose again.

:class:`CachingNarrator` and :class:`CachingMusicSource` wrap a
:class:`~videogen_core.ports.Narrator` / :class:`~videogen_core.ports.MusicSource`
and keep each result (the WAV and a JSON of its facts: duration, cues with word
timings, voice, mood) in a :class:`~videogen_adapters.cache.DiskCache`, keyed by
a hash of the call (text, voice, speed, seed / mood, duration, seed) and a
``token`` naming everything else that decides the audio (the composition root
passes the narrator's or music source's settings and the package version).
Results with warnings (a fallback voice, an unknown mood) are not kept: a later
run tries the real thing again. Both fit their port unchanged (``name``,
``voices``/``moods`` pass through).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import attrs

from videogen_core.ports import Cue, MusicBed, MusicSource, Narration, Narrator, Word
from videogen_core.progress import CancelToken

from . import DiskCache

__all__ = ["CachingMusicSource", "CachingNarrator"]


def _key(kind: str, token: str, *parts: Any) -> str:
    return hashlib.sha256(repr((kind, token, parts)).encode()).hexdigest()[:40]


def _restore(cache: DiskCache, key: str, output_path: Path) -> dict[str, Any] | None:
    """The cached facts of ``key`` with its WAV copied to ``output_path``, or None."""
    wav, facts = cache.get(key, ".wav"), cache.get(key, ".json")
    if facts is None:
        return None
    try:
        data: dict[str, Any] = json.loads(facts.read_text(encoding="utf-8"))
        if data.get("has_audio"):
            if wav is None:
                return None
            output_path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(wav, output_path)
    except (OSError, ValueError):
        return None
    return data


def _keep(cache: DiskCache, key: str, wav: Path | None, facts: dict[str, Any],
          scratch: Path) -> None:
    """Cache ``wav`` (copied) and ``facts`` under ``key``: the WAV first, so the facts
    never point at a missing file."""
    facts = {**facts, "has_audio": wav is not None}
    if wav is not None:
        copy = scratch.with_name(scratch.name + ".wav")
        shutil.copyfile(wav, copy)
        cache.put(key, copy, ".wav")
    meta = scratch.with_name(scratch.name + ".json")
    meta.write_text(json.dumps(facts), encoding="utf-8")
    cache.put(key, meta, ".json")


class CachingNarrator:
    """A :class:`~videogen_core.ports.Narrator` answered from the cache when it can."""

    def __init__(self, inner: Narrator, cache: DiskCache, token: str) -> None:
        self.inner = inner
        self.cache = cache
        self.token = token
        self.name = inner.name

    def voices(self) -> list[str]:
        """The wrapped narrator's voices."""
        return self.inner.voices()

    def synthesize(self, text: str, output_path: Path, *, voice: str | None = None,
                   speed: float = 1.0, seed: int | None = None,
                   cancel: CancelToken | None = None) -> Narration:
        """The cached narration of this call, else the wrapped narrator's (kept)."""
        key = _key("narration", self.token, self.name, text, voice, round(speed, 6), seed)
        data = _restore(self.cache, key, Path(output_path))
        if data is not None:
            cues = tuple(Cue(c["start"], c["end"], c["text"],
                             tuple(Word(**w) for w in c["words"])) for c in data["cues"])
            return Narration(Path(output_path) if data["has_audio"] else None,
                             data["duration"], data["sample_rate"], cues, data["voice"],
                             data["provider"])
        narration = self.inner.synthesize(text, output_path, voice=voice, speed=speed,
                                          seed=seed, cancel=cancel)
        if not narration.warnings:
            facts = attrs.asdict(narration, filter=lambda a, _: a.name not in ("path",
                                                                               "warnings"))
            _keep(self.cache, key, narration.path, facts, Path(output_path))
        return narration


class CachingMusicSource:
    """A :class:`~videogen_core.ports.MusicSource` answered from the cache when it can."""

    def __init__(self, inner: MusicSource, cache: DiskCache, token: str) -> None:
        self.inner = inner
        self.cache = cache
        self.token = token
        self.name = inner.name

    def moods(self) -> list[str]:
        """The wrapped source's moods."""
        return self.inner.moods()

    def compose(self, mood: str, duration: float, output_path: Path, *, seed: int,
                cancel: CancelToken | None = None) -> MusicBed:
        """The cached bed of this call, else the wrapped source's (kept)."""
        key = _key("music", self.token, self.name, mood, round(duration, 6), seed)
        data = _restore(self.cache, key, Path(output_path))
        if data is not None and data["has_audio"]:
            return MusicBed(Path(output_path), data["duration"], data["mood"])
        bed = self.inner.compose(mood, duration, output_path, seed=seed, cancel=cancel)
        if not bed.warnings:
            _keep(self.cache, key, bed.path, {"duration": bed.duration, "mood": bed.mood},
                  Path(output_path))
        return bed
