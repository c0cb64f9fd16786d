"""Mood words: the ten moods every music source knows, and how any other word
(a synonym, a typo, a phrase) finds the nearest one."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

__all__ = ["DEFAULT_MOOD", "MOODS", "NEIGHBOURS", "SYNONYMS", "resolve_mood"]

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


#: For each mood, the moods nearest to it (used when a source lacks the mood itself).
NEIGHBOURS = {
    "epic": ("uplifting", "tense", "dark"),
    "calm": ("romantic", "mysterious", "sad"),
    "happy": ("playful", "uplifting", "calm"),
    "sad": ("romantic", "calm", "dark"),
    "tense": ("dark", "epic", "mysterious"),
    "mysterious": ("dark", "calm", "tense"),
    "romantic": ("calm", "sad", "happy"),
    "uplifting": ("happy", "epic", "playful"),
    "dark": ("tense", "mysterious", "sad"),
    "playful": ("happy", "uplifting", "calm"),
}


def _canonical(words: list[str], table: dict[str, str]) -> str | None:
    """The mood a list of words points to: exact word, then stem, then spelling."""
    found = next((table[w] for w in words if w in table), None)
    if found is None:  # stems: "peacefully" → "peaceful", "mysteries" → "mystery"
        found = next((table[k] for w in words for k in table
                      if len(k) >= 4 and (w.startswith(k) or (k.startswith(w) and len(w) >= 5))),
                     None)
    if found is None:
        for w in words:
            close = difflib.get_close_matches(w, list(table), n=1, cutoff=0.8)
            if close:
                return table[close[0]]
    return found


def resolve_mood(mood: str, known: Iterable[str] = MOODS,
                 default: str = DEFAULT_MOOD) -> tuple[str, str | None]:
    """(the known mood to use, a warning or None) for a requested ``mood``.

    Exact names (any case, spacing) need no warning; an empty mood is ``default``.
    Otherwise the request's words are matched (synonym table, stems, spelling) to
    one of the ten moods; a source lacking that mood uses its nearest neighbour
    it has. When nothing matches, ``default`` (or the first known mood) is used.
    """
    known = list(dict.fromkeys(known))
    if not known:
        raise ValueError("no moods to choose from")
    fallback = default if default in known else known[0]
    text = " ".join(mood.lower().split())
    if not text:
        return fallback, None
    if text in known:
        return text, None
    table = dict(SYNONYMS)
    table.update({m: m for m in (*MOODS, *known)})
    words = [w for w in re.split(r"[^a-z]+", text) if w]
    words.append("".join(words))  # "lo-fi" → "lofi"
    found = _canonical(words, table)
    if found is not None and found not in known:
        found = next((n for n in NEIGHBOURS.get(found, ()) if n in known), None)
    if found is None:
        return fallback, f"unknown music mood {mood!r}; using {fallback!r}"
    return found, f"music mood {mood!r} is not known; using the nearest, {found!r}"
