"""Captions as text: cue splitting and SRT / WebVTT formatting (pure functions)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .ports import Cue

__all__ = ["format_srt", "format_vtt", "split_sentences", "spread_cues", "wrap_caption"]

_SENTENCE = re.compile(r"(?<=[.!?…])\s+(?=\S)")


def split_sentences(text: str) -> list[str]:
    """Split narration into sentences (keeps punctuation); empty text → []."""
    text = " ".join(text.split())
    return [s for s in _SENTENCE.split(text) if s] if text else []


def spread_cues(text: str, duration: float) -> tuple[Cue, ...]:
    """Sentence cues spread over ``duration`` in proportion to their length;
    for engines that give no timings of their own."""
    sentences = split_sentences(text)
    if not sentences or duration <= 0:
        return ()
    weights = [max(1, len(s)) for s in sentences]
    total = sum(weights)
    cues, t = [], 0.0
    for sentence, weight in zip(sentences, weights, strict=True):
        length = duration * weight / total
        cues.append(Cue(round(t, 3), round(t + length, 3), sentence))
        t += length
    return tuple(cues)


def wrap_caption(text: str, width: int = 42) -> str:
    """Wrap a caption into lines of at most ``width`` characters (at most two lines
    when possible, balanced)."""
    words = text.split()
    if len(text) <= width or len(words) < 2:
        return text
    best, best_score = text, None
    for i in range(1, len(words)):
        first, second = " ".join(words[:i]), " ".join(words[i:])
        score = max(len(first), len(second))
        if best_score is None or score < best_score:
            best, best_score = f"{first}\n{second}", score
    return best


def _stamp(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def format_srt(cues: Iterable[Cue]) -> str:
    """SubRip text for ``cues`` (numbered from 1)."""
    blocks = []
    for n, cue in enumerate(cues, 1):
        blocks.append(
            f"{n}\n{_stamp(cue.start, ',')} --> {_stamp(cue.end, ',')}\n{wrap_caption(cue.text)}\n"
        )
    return "\n".join(blocks)


def format_vtt(cues: Iterable[Cue]) -> str:
    """WebVTT text for ``cues``."""
    blocks = ["WEBVTT\n"]
    for cue in cues:
        text = wrap_caption(cue.text).replace("-->", "->")
        blocks.append(f"{_stamp(cue.start, '.')} --> {_stamp(cue.end, '.')}\n{text}\n")
    return "\n".join(blocks)
