"""Word timings in the core: the syllable estimate, clamping, VTT inline timestamps,
the .words.json sidecar, chapter titles, caption-style validation."""

from __future__ import annotations

import json

import pytest

from videogen_core import Cue, GenerationParams, InvalidRequest, Word
from videogen_core.captions import (
    chapter_title,
    clamp_words,
    format_vtt,
    format_words_json,
    split_sentences,
    spread_words,
    syllables,
    timed_words,
)


def test_syllables_by_script() -> None:
    assert syllables("cat") == 1 and syllables("extraordinary") >= 5
    assert syllables("Привет") == 2 and syllables("καλημέρα") == 4
    assert syllables("你好世界") == 4  # one per CJK character
    assert syllables("1984") >= 4 and syllables("مرحبا") >= 1


def test_spread_words_fill_the_cue_in_order() -> None:
    cue = Cue(1.0, 3.0, "A wonderful day, everyone.")
    words = spread_words(cue)
    assert [w.text for w in words] == ["A", "wonderful", "day,", "everyone."]
    assert words[0].start == 1.0 and words[-1].end == pytest.approx(3.0)
    lengths = [w.end - w.start for w in words]
    assert lengths[1] > lengths[0]  # four syllables take longer than one


def test_clamp_words_keeps_them_inside_and_rejects_other_text() -> None:
    cue = Cue(1.0, 2.0, "hello world")
    clamped = clamp_words(cue, [Word(0.8, 1.4, "hello"), Word(1.3, 2.5, "world")])
    assert clamped == (Word(1.0, 1.4, "hello"), Word(1.4, 2.0, "world"))
    assert clamp_words(cue, [Word(1.0, 2.0, "hello")]) == ()


def test_timed_words_keeps_good_words_and_estimates_the_rest() -> None:
    timed = Cue(0.0, 1.0, "a b", (Word(0.1, 0.2, "a"), Word(0.6, 0.9, "b")))
    bare = Cue(2.0, 3.0, "c d")
    a, b = timed_words([timed, bare])
    assert a.words == timed.words
    assert [w.text for w in b.words] == ["c", "d"] and b.words[0].start == 2.0


def test_vtt_has_inline_timestamps_inside_the_cue() -> None:
    cue = Cue(1.0, 2.5, "one two <three>", (Word(1.0, 1.2, "one"), Word(1.25, 1.6, "two"),
                                             Word(1.7, 2.4, "<three>")))
    text = format_vtt([cue])
    assert "00:00:01.000 --> 00:00:02.500\none <00:00:01.250>two <00:00:01.700>&lt;three>" \
        in text
    # words that do not match the text: plain text, no stamps
    assert "<00:" not in format_vtt([Cue(1.0, 2.0, "x y", (Word(1.0, 2.0, "z"),))])


def test_words_json_sidecar() -> None:
    cue = Cue(0.25, 1.5, "Hi there", (Word(0.25, 0.5, "Hi"), Word(0.6, 1.5, "there")))
    doc = json.loads(format_words_json([cue]))
    assert doc == {"version": 1, "cues": [{"start": 0.25, "end": 1.5, "text": "Hi there",
                                           "words": [{"start": 0.25, "end": 0.5, "text": "Hi"},
                                                     {"start": 0.6, "end": 1.5,
                                                      "text": "there"}]}]}


def test_cue_shift_moves_its_words() -> None:
    cue = Cue(1.0, 2.0, "a", (Word(1.1, 1.9, "a"),)).shifted(10)
    assert cue.words == (Word(11.1, 11.9, "a"),)


def test_chapter_titles() -> None:
    assert chapter_title("", 4) == "Scene 4"
    assert chapter_title("The storm comes!", 1) == "The storm comes!"
    assert chapter_title("A quiet morning over the sleeping hills, long before dawn.", 1) == \
        "A quiet morning over the sleeping…"


def test_full_width_punctuation_ends_sentences() -> None:
    assert split_sentences("你好世界。今天天气很好！") == ["你好世界。", "今天天气很好！"]
    assert split_sentences("One. Two") == ["One.", "Two"]


@pytest.mark.parametrize("style", ["none", "subtitle", "karaoke", "bold", None])
def test_caption_styles_accepted(style: str | None) -> None:
    assert GenerationParams(caption_style=style).caption_style == style


def test_unknown_caption_style_and_bad_poster_scene() -> None:
    with pytest.raises(InvalidRequest) as bad:
        GenerationParams(caption_style="comic")
    assert bad.value.field == "caption_style"
    with pytest.raises(InvalidRequest):
        GenerationParams(poster_scene=-1)
