"""Mood resolution: exact names, synonyms, stems, typos, neighbours, fallback."""

from __future__ import annotations

import pytest

from videogen_adapters.music.moods import MOODS, NEIGHBOURS, SYNONYMS, resolve_mood


@pytest.mark.parametrize("mood", MOODS)
def test_known_moods_need_no_warning(mood: str) -> None:
    assert resolve_mood(f"  {mood.upper()} ") == (mood, None)


@pytest.mark.parametrize(("asked", "used"), [
    ("joyful", "happy"), ("Suspense", "tense"), ("heroic battle", "epic"),
    ("peacefully", "calm"), ("mysteries", "mysterious"), ("suspensful", "tense"),
    ("a sad, nostalgic evening", "sad"), ("horror", "dark"), ("whimsical", "playful"),
    ("inspirational", "uplifting"), ("love", "romantic"),
])
def test_other_words_find_the_nearest_mood_with_a_warning(asked: str, used: str) -> None:
    mood, warning = resolve_mood(asked)
    assert mood == used
    assert warning and repr(asked) in warning and repr(used) in warning


def test_empty_is_the_neutral_default() -> None:
    assert resolve_mood("") == ("calm", None)


def test_nonsense_falls_back_with_a_warning() -> None:
    mood, warning = resolve_mood("xyzzy")
    assert mood == "calm" and warning and "unknown" in warning


def test_a_source_without_the_mood_gets_its_neighbour() -> None:
    assert resolve_mood("joyful", ["uplifting", "sad"])[0] == "uplifting"
    assert resolve_mood("epic", ["dark", "calm"])[0] == "dark"


def test_custom_library_moods_match_by_spelling() -> None:
    assert resolve_mood("lo-fi", ["lofi", "sad"]) == ("lofi", resolve_mood("lo-fi", ["lofi",
                                                                                     "sad"])[1])
    assert resolve_mood("Lofi", ["lofi"]) == ("lofi", None)


def test_tables_are_consistent() -> None:
    assert set(SYNONYMS.values()) == set(MOODS) == set(NEIGHBOURS)
    assert all(n in MOODS and n != m for m, ns in NEIGHBOURS.items() for n in ns)
