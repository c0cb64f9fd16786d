"""Captions: sentence splitting, spread cues, SRT and WebVTT text."""

from __future__ import annotations

import itertools

import pytest

from videogen_core import Cue, format_srt, format_vtt, split_sentences, spread_cues
from videogen_core.captions import wrap_caption


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("", []),
        ("   \n\t ", []),
        ("Hello.", ["Hello."]),
        ("No final stop", ["No final stop"]),
        ("One. Two! Three? Four… five", ["One.", "Two!", "Three?", "Four…", "five"]),
        ("Spaced   out.\n\nNext\tline.", ["Spaced out.", "Next line."]),
        ("Dr.Who stays together", ["Dr.Who stays together"]),  # no space, no split
        ("Wait... what?!  Yes.", ["Wait...", "what?!", "Yes."]),
    ],
)
def test_split_sentences(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences


def test_spread_cues_proportional_and_contiguous() -> None:
    cues = spread_cues("Hi. Hello there.", 3.0)
    assert [c.text for c in cues] == ["Hi.", "Hello there."]
    # 3 and 12 characters: 1/5 and 4/5 of the time
    assert cues[0] == Cue(0.0, 0.6, "Hi.")
    assert cues[1] == Cue(0.6, 3.0, "Hello there.")


def test_spread_cues_cover_the_whole_duration() -> None:
    text = "A short one. " + "A much longer sentence that goes on and on. " * 3 + "End."
    cues = spread_cues(text, 7.3)
    assert cues[0].start == 0.0
    assert cues[-1].end == pytest.approx(7.3, abs=1e-3)
    for a, b in itertools.pairwise(cues):
        assert a.end == pytest.approx(b.start, abs=1e-3)
        assert a.start < a.end


@pytest.mark.parametrize(("text", "duration"), [("", 3.0), ("Words.", 0.0), ("Words.", -1.0)])
def test_spread_cues_nothing_to_show(text: str, duration: float) -> None:
    assert spread_cues(text, duration) == ()


def test_cue_shifted() -> None:
    assert Cue(1.0, 2.0, "x").shifted(2.5) == Cue(3.5, 4.5, "x")


def test_format_srt() -> None:
    text = format_srt([Cue(0, 1.5, "Hi."), Cue(3661.0015, 3662.2, "Later.")])
    assert text == (
        "1\n00:00:00,000 --> 00:00:01,500\nHi.\n"
        "\n"
        "2\n01:01:01,002 --> 01:01:02,200\nLater.\n"
    )


def test_format_vtt() -> None:
    text = format_vtt([Cue(0, 1.5, "Hi."), Cue(61.25, 62.0, "A --> B")])
    assert text == (
        "WEBVTT\n"
        "\n"
        "00:00:00.000 --> 00:00:01.500\nHi.\n"
        "\n"
        "00:01:01.250 --> 00:01:02.000\nA -> B\n"  # "-->" would end the cue timing line
    )


def test_empty_captions() -> None:
    assert format_srt([]) == ""
    assert format_vtt([]) == "WEBVTT\n"


def test_negative_times_clamp_to_zero() -> None:
    assert "00:00:00,000 --> 00:00:00,500" in format_srt([Cue(-0.2, 0.5, "x")])


def test_long_captions_wrap_into_two_balanced_lines() -> None:
    text = "This is a rather long caption that needs to be wrapped into two lines"
    wrapped = wrap_caption(text)
    first, second = wrapped.split("\n")
    assert f"{first} {second}" == text
    assert max(len(first), len(second)) <= 42
    assert abs(len(first) - len(second)) < 10
    assert wrap_caption("short") == "short"
    assert wrap_caption("x" * 60) == "x" * 60  # one word cannot wrap
    srt = format_srt([Cue(0, 1, text)])
    assert wrapped in srt
