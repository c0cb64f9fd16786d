"""The clip-action grammar and the movement-limit rule."""

from __future__ import annotations

import pytest

from videogen_core import (
    ClipAction,
    Movement,
    limit_clip_action,
    movement_limit,
    parse_clip_action,
    validate_clip_action,
)
from videogen_core.motion import DEFAULT_MOVEMENT_LIMITS, MOVEMENTS, SPEED_FACTORS


def names(text: str) -> list[str]:
    return [str(m) for m in parse_clip_action(text).movements]


# ------------------------------------------------------------------ parsing
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("zoom in", ["zoom in"]),
        ("Zoom In", ["zoom in"]),
        ("ZOOM IN", ["zoom in"]),
        ("zoom-in", ["zoom in"]),
        ("Zoom-Out", ["zoom out"]),
        ("zoom_out", ["zoom out"]),
        ("   zoom     in   ", ["zoom in"]),
        ("\tzoom\nin", ["zoom in"]),
        ("pan left", ["pan left"]),
        ("pan right", ["pan right"]),
        ("pan up", ["pan up"]),
        ("pan down", ["pan down"]),
        ("tilt up", ["tilt up"]),
        ("tilt down", ["tilt down"]),
        ("static", ["static"]),
        ("still", ["static"]),
        ("hold", ["static"]),
    ],
)
def test_single_movements_tolerant_of_case_hyphens_spaces(text: str, expected: list[str]) -> None:
    assert names(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("push in", ["zoom in"]),
        ("pull back", ["zoom out"]),
        ("pull out", ["zoom out"]),
        ("dolly in", ["zoom in"]),
        ("dolly out", ["zoom out"]),
        ("zoom back", ["zoom out"]),
        ("zoom into the house", ["zoom in"]),
        ("truck left", ["pan left"]),
        ("zooming out", ["zoom out"]),
        ("zooms in", ["zoom in"]),
        ("panning left", ["pan left"]),
        ("tilting down", ["tilt down"]),
        # a verb without a direction takes its default one
        ("zoom", ["zoom in"]),
        ("pan", ["pan right"]),
        ("tilt", ["tilt up"]),
    ],
)
def test_synonyms_and_verb_forms(text: str, expected: list[str]) -> None:
    assert names(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("zoom in and pan left", ["zoom in", "pan left"]),
        ("zoom in then pan left", ["zoom in", "pan left"]),
        ("zoom in, pan left", ["zoom in", "pan left"]),
        ("zoom in; pan left & tilt up", ["zoom in", "pan left", "tilt up"]),
        ("zoom in + pan left", ["zoom in", "pan left"]),
        ("Zoom-In and PAN   LEFT then tilt up", ["zoom in", "pan left", "tilt up"]),
        ("pan left and zoom in", ["pan left", "zoom in"]),  # written order kept
        ("zoom in pan left", ["zoom in", "pan left"]),
        ("and zoom in", ["zoom in"]),
        ("zoom in and", ["zoom in"]),
        ("zoom in,,, , pan left", ["zoom in", "pan left"]),
    ],
)
def test_joiners_commas_and_order(text: str, expected: list[str]) -> None:
    assert names(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("slow zoom out", [Movement("zoom out", "slow")]),
        ("slowly zoom out", [Movement("zoom out", "slow")]),
        ("zoom out slowly", [Movement("zoom out", "slow")]),
        ("zoom out slow", [Movement("zoom out", "slow")]),
        ("gentle pan left", [Movement("pan left", "gentle")]),
        ("gently pan left", [Movement("pan left", "gentle")]),
        ("subtle zoom in", [Movement("zoom in", "gentle")]),
        ("fast zoom in", [Movement("zoom in", "fast")]),
        ("rapid zoom in", [Movement("zoom in", "fast")]),
        ("quick pan right", [Movement("pan right", "quick")]),
        ("pan right quickly", [Movement("pan right", "quick")]),
        ("steady tilt up", [Movement("tilt up", "normal")]),
        ("Slow Zoom-Out", [Movement("zoom out", "slow")]),
        ("zoom in", [Movement("zoom in", "normal")]),
        (
            "slow zoom out, pan right",
            [Movement("zoom out", "slow"), Movement("pan right", "normal")],
        ),
        (
            "zoom in slowly and pan left quickly",
            [Movement("zoom in", "slow"), Movement("pan left", "quick")],
        ),
        (
            "zoom in, fast pan left",
            [Movement("zoom in", "normal"), Movement("pan left", "fast")],
        ),
        (
            "zooming out quickly and panning left",
            [Movement("zoom out", "quick"), Movement("pan left", "normal")],
        ),
        # a speed word between two movements belongs to the one that follows
        ("zoom in slow pan left", [Movement("zoom in"), Movement("pan left", "slow")]),
    ],
)
def test_speed_words_before_and_after(text: str, expected: list[Movement]) -> None:
    assert list(parse_clip_action(text).movements) == expected


def test_speed_words_do_not_overwrite_a_given_speed() -> None:
    parsed = parse_clip_action("fast zoom in slowly")
    assert parsed.movements == (Movement("zoom in", "fast"),)
    assert parsed.description == "slowly"


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("misty forest", "misty forest"),
        ("slow zoom in, misty forest at dawn", "misty forest at dawn"),
        ("zoom in, misty forest, pan left", "misty forest"),
        ("sunset and sea", "sunset and sea"),
        ("gentle", "gentle"),
        ("birds flying over the sea", "birds flying over the sea"),
        ("zoom in on the cat's face", "on the cat's face"),
    ],
)
def test_unknown_words_kept_as_description(text: str, description: str) -> None:
    assert parse_clip_action(text).description == description


def test_description_is_not_counted_as_movement() -> None:
    parsed = parse_clip_action("misty forest, birds, slow river")
    assert parsed.movements == ()
    assert "misty forest" in parsed.description
    assert movement_limit(1.0) == 1
    assert validate_clip_action("misty forest, birds", 1.0) == "misty forest, birds"


@pytest.mark.parametrize("text", ["", "   ", ",,,", " , ; & ", "-", "_"])
def test_empty_actions(text: str) -> None:
    parsed = parse_clip_action(text)
    assert parsed == ClipAction()
    assert parsed.text == ""
    assert validate_clip_action(text, 5) == ""


def test_normalised_text() -> None:
    assert parse_clip_action("Slow Zoom-Out AND   pan RIGHT").text == "slow zoom out, pan right"
    assert parse_clip_action("zoom in, Misty Forest").text == "zoom in, misty forest"
    assert parse_clip_action("steady zoom in").text == "zoom in"  # normal speed is implicit


def test_movement_str_and_factor() -> None:
    assert str(Movement("zoom in")) == "zoom in"
    assert str(Movement("zoom in", "slow")) == "slow zoom in"
    assert Movement("pan left", "quick").factor == SPEED_FACTORS["quick"] == 2.0
    assert Movement("pan left").factor == 1.0
    assert SPEED_FACTORS["slow"] < SPEED_FACTORS["gentle"] < 1 < SPEED_FACTORS["fast"]


def test_every_vocabulary_movement_parses_to_itself() -> None:
    for name in MOVEMENTS:
        assert names(name) == [name]
        assert names(name.upper().replace(" ", "-")) == [name]


# ------------------------------------------------------------------ limits
@pytest.mark.parametrize(
    ("duration", "limit"),
    [(0.001, 1), (1, 1), (3, 1), (3.0, 1), (3.01, 2), (4.99, 2), (5, 2), (5.01, 3),
     (7, 3), (7.01, 3), (100, 3), (1e9, 3)],
)
def test_movement_limit_smallest_key_at_least_duration(duration: float, limit: int) -> None:
    assert movement_limit(duration) == limit
    assert movement_limit(duration, DEFAULT_MOVEMENT_LIMITS) == limit


def test_movement_limit_keys_sorted_numerically_not_as_strings() -> None:
    limits = {"10": 5, "9": 4, "2": 1}  # as strings "10" < "2" < "9"
    assert movement_limit(2, limits) == 1
    assert movement_limit(9, limits) == 4
    assert movement_limit(9.5, limits) == 5
    assert movement_limit(50, limits) == 5


def test_movement_limit_above_largest_key_uses_largest_keys_value() -> None:
    # not the maximum value: the value of the largest key
    limits = {"3": 2, "5": 4, "7": 1}
    assert movement_limit(8, limits) == 1
    assert movement_limit(100, limits) == 1


FOUR = "zoom in, pan left, tilt up, pan right"


@pytest.mark.parametrize(
    ("duration", "kept"),
    [
        (3, ["zoom in"]),
        (3.01, ["zoom in", "pan left"]),
        (5, ["zoom in", "pan left"]),
        (7, ["zoom in", "pan left", "tilt up"]),
        (100, ["zoom in", "pan left", "tilt up"]),
    ],
)
def test_limit_keeps_first_movements_in_written_order(duration: float, kept: list[str]) -> None:
    limited = limit_clip_action(FOUR, duration)
    assert [str(m) for m in limited.movements] == kept
    all_four = ["zoom in", "pan left", "tilt up", "pan right"]
    assert [str(m) for m in limited.dropped] == all_four[len(kept):]
    assert validate_clip_action(FOUR, duration) == ", ".join(kept)


def test_limit_reports_nothing_dropped_when_within_limit() -> None:
    limited = limit_clip_action("slow zoom in", 3)
    assert limited.dropped == ()
    assert limited.movements == (Movement("zoom in", "slow"),)


def test_limit_keeps_description_and_speeds() -> None:
    text = "Slow zoom-out and pan right then tilt up, misty forest"
    assert validate_clip_action(text, 3) == "slow zoom out, misty forest"
    assert validate_clip_action(text, 5) == "slow zoom out, pan right, misty forest"
    limited = limit_clip_action(text, 3)
    assert limited.dropped == (Movement("pan right"), Movement("tilt up"))
    assert limited.description == "misty forest"


def test_limit_with_custom_limits() -> None:
    assert validate_clip_action("zoom in, pan left", 2, {"2": 0, "4": 2}) == ""
    assert validate_clip_action("zoom in, pan left", 3, {"2": 0, "4": 2}) == "zoom in, pan left"


def test_validate_clip_action_seed_signature_positional() -> None:
    # the seed calls validate_clip_action(clip_action, duration) and gets a str back
    result = validate_clip_action("Zoom In and Pan Left", 3.0)
    assert isinstance(result, str)
    assert result == "zoom in"


def test_validate_clip_action_is_idempotent_on_examples() -> None:
    for text in ["Slow zoom-out and pan right, misty forest", FOUR, "zoom in slowly, and",
                 "fast zoom in slowly", "pan, left", "slow slow zoom in"]:
        for d in (2, 5, 9):
            once = validate_clip_action(text, d)
            assert validate_clip_action(once, d) == once
