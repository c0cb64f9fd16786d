"""Mood words: the ten moods every music source knows, and how any other word
(a synonym, a typo, a phrase) finds the nearest one."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

__all__ = ["DEFAULT_MOOD", "MOODS", "SYNONYMS", "resolve_mood"]

#: The moods of the issue; every source maps requests onto one of its own.
MOODS = ("epic", "calm", "happy", "sad", "tense", "mysterious", "romantic", "uplifting",
         "dark", "playful")

#: An empty mood means this one (neutral, unobtrusive under narration).
DEFAULT_MOOD = "calm"

_WORDS = {
    "epic": "heroic grand majestic cinematic powerful adventure adventurous battle action "
            "dramatic bold orchestral war warrior legendary huge trailer",
    "calm": "peaceful relaxing relaxed relax serene tranquil gentle soft ambient chill "
            "meditative meditation quiet soothing neutral nature zen lofi background still "
            "slow easy",
    "happy": "joyful joyous cheerful upbeat bright sunny fun positive glad festive party "
             "summer celebration celebratory merry",
    "sad": "melancholy melancholic sorrowful somber sombre nostalgic lonely emotional tragic "
           "grief wistful blue depressing heartbreaking mournful unhappy tearful",
    "tense": "suspense suspenseful anxious nervous thriller urgent danger dangerous tension "
             "chase stressful intense action-packed pressure",
    "mysterious": "mystery eerie curious enigmatic magical magic mystical fantasy space "
                  "dreamy strange wonder ethereal surreal cosmic unknown",
    "romantic": "love tender loving passionate intimate warm sentimental wedding sweet "
                "affectionate heartfelt",
    "uplifting": "inspiring inspirational hopeful motivational optimistic triumphant rising "
                 "corporate hope victorious victory anthem encouraging",
    "dark": "ominous sinister scary horror gloomy menacing evil grim haunting creepy "
            "foreboding brooding spooky doom threatening",
    "playful": "quirky whimsical funny silly childlike bouncy lighthearted comedic comedy "
               "cartoon mischievous kids cute goofy humorous",
}

#: Word → mood, for the words of ``_WORDS``.
SYNONYMS: dict[str, str] = {word: mood for mood, words in _WORDS.items()
                            for word in words.split()}


def _candidates(known: Iterable[str]) -> dict[str, str]:
    table = {word: mood for word, mood in SYNONYMS.items() if mood in known}
    table.update({m: m for m in known})
    return table


def resolve_mood(mood: str, known: Iterable[str] = MOODS,
                 default: str = DEFAULT_MOOD) -> tuple[str, str | None]:
    """(the known mood to use, a warning or None) for a requested ``mood``.

    Exact names (any case, spacing) need no warning; an empty mood is ``default``.
    Otherwise each word of the request is looked up in the synonym table, then
    by stem and spelling similarity; when nothing matches, ``default`` is used.
    """
    known = list(known)
    if not known:
        raise ValueError("no moods to choose from")
    fallback = default if default in known else known[0]
    text = " ".join(mood.lower().split())
    if not text:
        return fallback, None
    if text in known:
        return text, None
    table = _candidates(known)
    words = [w for w in re.split(r"[^a-z]+", text) if w]
    found = next((table[w] for w in words if w in table), None)
    if found is None:  # stems: "peacefully" → "peaceful", "mysteries" → "mystery"
        found = next((table[k] for w in words for k in table
                      if len(k) >= 4 and (w.startswith(k) or (k.startswith(w) and len(w) >= 5))),
                     None)
    if found is None:
        for w in words:
            close = difflib.get_close_matches(w, list(table), n=1, cutoff=0.8)
            if close:
                found = table[close[0]]
                break
    if found is None:
        return fallback, f"unknown music mood {mood!r}; using {fallback!r}"
    return found, f"music mood {mood!r} is not known; using the nearest, {found!r}"
