"""``FallbackNarrator`` (providers tried in order) and ``SilentNarrator`` (the shipped fake)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import attrs
import numpy as np

from videogen_core import (
    CancelToken,
    InvalidRequest,
    Narration,
    Narrator,
    RenderFailed,
    ServiceUnavailable,
    UnknownVoice,
    VideogenError,
    split_sentences,
    spread_cues,
)

from .wav import write_wav

__all__ = ["FallbackNarrator", "SilentNarrator"]

#: Failures after which the next provider is tried (ImportError/OSError: engine not installed).
_FALL_THROUGH = (ServiceUnavailable, RenderFailed, ImportError, OSError)


def _reason(exc: BaseException) -> str:
    return exc.message if isinstance(exc, VideogenError) else f"{type(exc).__name__}: {exc}"


class FallbackNarrator:
    """Tries ``narrators`` in order; the first that speaks wins.

    A provider that fails (ServiceUnavailable, RenderFailed, not installed) is
    skipped and the result carries a warning saying so. A voice the first
    provider does not know is looked for in the others; when none has it,
    UnknownVoice lists every voice of the chain. After a provider *failed*, a
    later one that lacks the requested voice speaks with its default voice
    (with a warning) rather than failing the job.
    """

    name = "chain"

    def __init__(self, narrators: Sequence[Narrator]) -> None:
        if not narrators:
            raise InvalidRequest("narrator_chain", "needs at least one narrator")
        self.narrators = list(narrators)

    def voices(self) -> list[str]:
        """Every voice of every provider that answers, in chain order, no duplicates."""
        seen: dict[str, None] = {}
        for narrator in self.narrators:
            try:
                names = narrator.voices()
            except _FALL_THROUGH:
                continue
            seen.update(dict.fromkeys(names))
        return list(seen)

    def check(self) -> str:
        """Check every provider that has a ``check()``; ServiceUnavailable when none works."""
        lines, working = [], 0
        for narrator in self.narrators:
            check = getattr(narrator, "check", None)
            try:
                lines.append(check() if check else f"{narrator.name}: ok")
                working += 1
            except (*_FALL_THROUGH, VideogenError) as exc:
                lines.append(f"{narrator.name}: {_reason(exc)}")
        if not working:
            raise ServiceUnavailable("narration", "no narrator works: " + "; ".join(lines))
        return "chain: " + "; ".join(lines)

    def synthesize(
        self, text: str, output_path: Path, *, voice: str | None = None, speed: float = 1.0,
        seed: int | None = None, cancel: CancelToken | None = None,
    ) -> Narration:
        """Speak with the first provider that can; ServiceUnavailable when none can.

        The result carries one warning per provider that failed before it (and
        one when it had to use its own default voice)."""
        notes: list[str] = []
        failures: list[str] = []  # "name failed (reason)"
        unknown: UnknownVoice | None = None
        for narrator in self.narrators:
            try:
                try:
                    result = narrator.synthesize(text, output_path, voice=voice, speed=speed,
                                                 seed=seed, cancel=cancel)
                except UnknownVoice as exc:
                    unknown = unknown or exc
                    if not failures:
                        continue  # maybe a later provider has this voice
                    result = narrator.synthesize(text, output_path, voice=None, speed=speed,
                                                 seed=seed, cancel=cancel)
                    notes.append(f"narrator {narrator.name} has no voice {voice!r}; "
                                 f"it spoke with {result.voice or 'its default voice'}")
            except _FALL_THROUGH as exc:
                failures.append(f"narrator {narrator.name} failed ({_reason(exc)})")
                continue
            warnings = [f"{f}; narration spoken by {narrator.name}" for f in failures]
            return attrs.evolve(result, warnings=(*result.warnings, *warnings, *notes))
        if unknown is not None and not failures:
            raise UnknownVoice(voice or "", self.voices())
        raise ServiceUnavailable("narration", "every narrator failed: " + "; ".join(failures),
                                 providers=[n.name for n in self.narrators])


class SilentNarrator:
    """Deterministic fake: silence as long as the text would take to read
    (``seconds_per_char``, plus a pause per sentence), cues spread by length.

    For tests and ``VIDEOGEN_NARRATOR=silent``; ``voice_names`` are the voices it
    pretends to have.
    """

    name = "silent"

    def __init__(
        self,
        voice_names: Iterable[str] = ("silent",),
        *,
        seconds_per_char: float = 0.065,
        sentence_pause: float = 0.3,
        sample_rate: int = 22050,
    ) -> None:
        self._voices = list(voice_names)
        self.seconds_per_char = seconds_per_char
        self.sentence_pause = sentence_pause
        self.sample_rate = sample_rate

    def voices(self) -> list[str]:
        """The voice names given to the constructor."""
        return list(self._voices)

    def check(self) -> str:
        """Always works."""
        return "silent: no speech (fake narrator)"

    def synthesize(
        self, text: str, output_path: Path, *, voice: str | None = None, speed: float = 1.0,
        seed: int | None = None, cancel: CancelToken | None = None,
    ) -> Narration:
        """Write a silent WAV of the reading time of ``text`` divided by ``speed``."""
        if cancel is not None:
            cancel.raise_if_cancelled()
        if not speed > 0:
            raise InvalidRequest("speed", "must be > 0", speed)
        name = voice or (self._voices[0] if self._voices else "")
        if voice and voice not in self._voices:
            raise UnknownVoice(voice, self._voices)
        sentences = split_sentences(text)
        if not sentences:
            return Narration(path=None, duration=0.0, sample_rate=self.sample_rate, voice=name,
                             provider=self.name)
        chars = sum(len(s) for s in sentences)
        seconds = (chars * self.seconds_per_char + len(sentences) * self.sentence_pause) / speed
        frames = max(1, round(seconds * self.sample_rate))
        duration = write_wav(Path(output_path), np.zeros(frames, dtype=np.int16),
                             self.sample_rate)
        return Narration(path=Path(output_path), duration=duration, sample_rate=self.sample_rate,
                         cues=spread_cues(text, duration), voice=name, provider=self.name)
