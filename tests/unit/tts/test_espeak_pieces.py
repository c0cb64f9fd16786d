"""Caption pieces (pure text handling) shared by the narrators."""

from __future__ import annotations

from videogen_adapters.tts.align import caption_pieces as _pieces


def test_sentences_keep_their_character_offsets() -> None:
    text = "One. Two three! Four?"
    assert _pieces(text) == [(0, "One."), (5, "Two three!"), (16, "Four?")]


def test_long_sentences_split_at_words_within_two_caption_lines() -> None:
    text = " ".join(["word"] * 40) + "."
    pieces = _pieces(text)
    assert len(pieces) == 3 and all(len(p) <= 84 for _, p in pieces)
    assert " ".join(p for _, p in pieces) == text
    for offset, piece in pieces:
        assert text[offset: offset + len(piece)] == piece


def test_long_sentences_prefer_to_break_after_a_clause() -> None:
    text = ("When the sun finally rose over the silent valley, the travellers gathered their "
            "things and walked on towards the distant hills.")
    pieces = [p for _, p in _pieces(text)]
    assert pieces[0].endswith("valley,") and len(pieces) == 2


def test_short_sentences_are_never_split_at_commas() -> None:
    assert [p for _, p in _pieces("Yes, of course. No, never.")] == ["Yes, of course.",
                                                                      "No, never."]
