"""Caption pieces of the eSpeak narrator (pure text handling)."""

from __future__ import annotations

from videogen_adapters.tts.espeak import _pieces


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
