"""Captions as text: cue splitting, word timings, and SRT / WebVTT / JSON formatting
(pure functions).

Word timings come from the narrator (``Cue.words``: eSpeak's WORD events, Piper's
phoneme durations, or words aligned on the audio); :func:`timed_words` fills in
an estimate (the cue's time shared by syllables) for cues that have none, so
every cue that reaches the muxer and the stored captions has its words timed.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable

from .ports import Cue, Word

__all__ = [
    "chapter_title",
    "clamp_words",
    "format_srt",
    "format_vtt",
    "format_words_json",
    "split_sentences",
    "spread_cues",
    "spread_words",
    "syllables",
    "timed_words",
    "wrap_caption",
]

# after . ! ? … and a space; after the full-width 。！？ also with no space (CJK)
_SENTENCE = re.compile(r"(?<=[.!?…])\s+(?=\S)|(?<=[。！？])\s*(?=\S)")


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


def _escape(text: str) -> str:
    """Cue text safe for WebVTT (``&``, ``<`` escaped; no ``-->``)."""
    return text.replace("-->", "->").replace("&", "&amp;").replace("<", "&lt;")


def _vtt_text(cue: Cue) -> str:
    """The cue's (wrapped) text, with a WebVTT cue timestamp ``<hh:mm:ss.ttt>`` before
    every word after the first when the cue's words are timed (karaoke-capable
    players highlight them); timestamps strictly inside the cue and increasing."""
    text = wrap_caption(cue.text)
    tokens = re.split(r"( |\n)", text)
    words = [t for t in tokens if t not in (" ", "\n", "")]
    if not cue.words or [w.text for w in cue.words] != words:
        return _escape(text)
    out: list[str] = []
    k = 0
    last_ms = round(cue.start * 1000)
    end_ms = round(cue.end * 1000)
    for token in tokens:
        if token in (" ", "\n", ""):
            out.append(token)
            continue
        ms = round(cue.words[k].start * 1000)
        if k > 0 and last_ms < ms < end_ms:
            out.append(f"<{_stamp(ms / 1000, '.')}>")
            last_ms = ms
        out.append(_escape(token))
        k += 1
    return "".join(out)


def format_vtt(cues: Iterable[Cue]) -> str:
    """WebVTT text for ``cues``, with inline word timestamps where words are timed."""
    blocks = ["WEBVTT\n"]
    for cue in cues:
        blocks.append(f"{_stamp(cue.start, '.')} --> {_stamp(cue.end, '.')}\n{_vtt_text(cue)}\n")
    return "\n".join(blocks)


def format_words_json(cues: Iterable[Cue]) -> str:
    """The ``.words.json`` sidecar: ``{"version": 1, "cues": [{"start", "end", "text",
    "words": [{"start", "end", "text"}]}]}`` (seconds, milliseconds precision)."""
    doc = {"version": 1, "cues": [
        {"start": round(c.start, 3), "end": round(c.end, 3), "text": c.text,
         "words": [{"start": round(w.start, 3), "end": round(w.end, 3), "text": w.text}
                   for w in c.words]}
        for c in cues]}
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


# ------------------------------------------------------------------- words
_VOWEL_GROUP = re.compile(r"[aeiouyàáâäæãåāèéêëēìíîïòóôöõøōùúûüαεηιουωάέήίόύώ"
                          r"аеёиоуыэюяіїєґ]+", re.IGNORECASE)


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def syllables(word: str) -> int:
    """A rough syllable count (speaking-time weight) of ``word``: vowel groups for
    alphabetic scripts, one per character for CJK, digits as spoken numbers; ≥ 1."""
    wide = sum(1 for ch in word if _wide(ch))
    digits = sum(1 for ch in word if ch.isdigit())
    groups = len(_VOWEL_GROUP.findall(word))
    if groups == 0:  # scripts without listed vowels (Arabic, Hebrew...): by letters
        groups = (sum(1 for ch in word if ch.isalpha() and not _wide(ch)) + 2) // 3
    return max(1, groups + wide + 2 * digits)


def _word_weight(word: str) -> float:
    pause = 1.5 if word[-1:] in ",;:—–" else 2.0 if word[-1:] in ".!?…" else 0.0
    return syllables(word) + pause


def spread_words(cue: Cue) -> tuple[Word, ...]:
    """The cue's words with times estimated by their syllables (a word before a
    punctuation pause gets a little more), for cues the narrator did not time."""
    words = cue.text.split()
    if not words:
        return ()
    weights = [_word_weight(w) for w in words]
    total = sum(weights)
    span = max(0.0, cue.end - cue.start)
    out, t = [], cue.start
    for word, weight in zip(words, weights, strict=True):
        length = span * weight / total
        out.append(Word(round(t, 3), round(t + length, 3), word))
        t += length
    return tuple(out)


def clamp_words(cue: Cue, words: Iterable[Word]) -> tuple[Word, ...]:
    """``words`` rounded to milliseconds, in order, not overlapping, inside the cue;
    empty unless their texts are exactly the cue's whitespace-separated words."""
    words = list(words)
    if [w.text for w in words] != cue.text.split():
        return ()
    out: list[Word] = []
    last = cue.start
    for word in words:
        start = min(max(word.start, last), cue.end)
        end = min(max(word.end, start), cue.end)
        out.append(Word(round(start, 3), round(end, 3), word.text))
        last = end
    return tuple(out)


def timed_words(cues: Iterable[Cue]) -> tuple[Cue, ...]:
    """``cues`` with every cue's words timed: its own when valid, else estimated."""
    out = []
    for cue in cues:
        words = clamp_words(cue, cue.words) if cue.words else ()
        out.append(Cue(cue.start, cue.end, cue.text, words or spread_words(cue)))
    return tuple(out)


def chapter_title(narration: str, scene_number: int, max_words: int = 6,
                  max_chars: int = 48) -> str:
    """A chapter title for a scene: the first words of its narration (``…`` when cut),
    or ``"Scene N"`` when it has none."""
    words = narration.split()
    if not words:
        return f"Scene {scene_number}"
    title = ""
    for word in words[:max_words]:
        candidate = f"{title} {word}" if title else word
        if len(candidate) > max_chars:
            break
        title = candidate
    title = title or words[0][:max_chars]
    cut = len(title.split()) < len(words)
    return title.rstrip(",;:") + ("…" if cut else "")
