"""Property tests of the core rules (hypothesis)."""

from __future__ import annotations

import math

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from videogen_core import (
    InvalidRequest,
    Timeline,
    fit_narration,
    limit_clip_action,
    movement_limit,
    parse_clip_action,
    validate_clip_action,
)
from videogen_core.motion import DEFAULT_MOVEMENT_LIMITS

VOCABULARY = [
    "zoom", "in", "out", "pan", "left", "right", "up", "down", "tilt", "static", "still",
    "slow", "slowly", "gentle", "fast", "quick", "quickly", "and", "then", "push", "pull",
    "back", "dolly", "truck", "hold", "zooming", "Zoom-In", "PAN", "forest", "misty", ",",
    ";", "&", "-", "  ",
]
# free text, and text built from the grammar's own words (where the bugs would hide)
clip_texts = st.text(max_size=80) | st.lists(st.sampled_from(VOCABULARY), max_size=14).map(
    " ".join)
durations = st.floats(allow_nan=True, allow_infinity=True) | st.floats(0.01, 20)
limit_maps = st.dictionaries(
    st.floats(0.1, 30, allow_nan=False).map(lambda f: f"{f:g}"), st.integers(0, 6),
    min_size=1, max_size=5,
)


@settings(max_examples=200, deadline=None)
@given(clip_texts, durations)
def test_movement_count_never_exceeds_the_limit(text: str, duration: float) -> None:
    limited = limit_clip_action(text, duration)
    assert len(limited.movements) <= movement_limit(duration)
    assert len(limited.movements) <= max(DEFAULT_MOVEMENT_LIMITS.values())
    # nothing is lost silently: kept + dropped = everything that was parsed
    assert limited.movements + limited.dropped == parse_clip_action(text).movements
    reparsed = parse_clip_action(validate_clip_action(text, duration))
    assert len(reparsed.movements) <= movement_limit(duration)


@settings(max_examples=120, deadline=None)
@given(clip_texts, st.floats(0.01, 40), limit_maps)
def test_movement_count_within_any_configured_limit(text: str, duration: float,
                                                    limits: dict[str, int]) -> None:
    allowed = movement_limit(duration, limits)
    keys = sorted(float(k) for k in limits)
    at_least = [k for k in keys if k >= duration]
    expected_key = at_least[0] if at_least else keys[-1]
    assert allowed == next(v for k, v in limits.items() if float(k) == expected_key)
    assert len(limit_clip_action(text, duration, limits).movements) <= allowed


@settings(max_examples=200, deadline=None)
@given(st.text(), durations)
def test_parse_and_validate_never_raise(text: str, duration: float) -> None:
    parsed = parse_clip_action(text)
    assert isinstance(parsed.text, str)
    assert isinstance(validate_clip_action(text, duration), str)


@settings(max_examples=200, deadline=None)
@given(clip_texts, st.floats(0.01, 20))
def test_validating_twice_changes_nothing(text: str, duration: float) -> None:
    once = validate_clip_action(text, duration)
    assert validate_clip_action(once, duration) == once
    assert parse_clip_action(once).text == once


@settings(max_examples=120, deadline=None)
@given(clip_texts)
def test_normalised_text_is_lower_case_single_spaced(text: str) -> None:
    out = parse_clip_action(text).text
    assert out == out.lower() or not out.isascii()
    assert "  " not in out
    assert out == out.strip()


scene_durations = st.lists(st.floats(0.05, 60), min_size=1, max_size=60)


@settings(max_examples=120, deadline=None)
@given(scene_durations, st.sampled_from(["none", "fade", "crossfade"]), st.floats(0, 2))
def test_timeline_total_and_increasing_starts(ds: list[float], transition: str,
                                              x: float) -> None:
    try:
        t = Timeline.build(ds, transition, x)
    except InvalidRequest as err:
        # only a crossfade longer than a scene allows is refused
        assert transition == "crossfade"
        assert err.field.startswith("sequence_data[")
        return
    n = len(ds)
    overlap = x if transition == "crossfade" and n > 1 else 0.0
    assert math.isclose(t.total, sum(ds) - (n - 1) * overlap, rel_tol=1e-9, abs_tol=1e-9)
    assert all(a < b for a, b in zip(t.starts, t.starts[1:], strict=False))
    assert t.starts[0] == 0.0
    assert math.isclose(t.ends[-1], t.total, rel_tol=1e-9, abs_tol=1e-9)
    assert all(s < ns for s, ns in zip(t.narration_starts, t.narration_starts[1:],
                                       strict=False))


@settings(max_examples=120, deadline=None)
@given(st.lists(st.floats(0.25, 30), min_size=1, max_size=60),
       st.sampled_from(["none", "fade", "crossfade"]), st.sampled_from([0.25, 0.5, 1.0]),
       st.sampled_from([12, 24, 25, 30, 60]))
def test_frame_counts_add_up_to_the_timeline(ds: list[float], transition: str, x: float,
                                             fps: int) -> None:
    assume(all(d * fps >= 3 for d in ds))
    try:
        t = Timeline.build(ds, transition, x)
    except InvalidRequest:
        return
    counts = t.frame_counts(fps)
    ov = t.overlap_frames(fps)
    assert sum(counts) - (len(ds) - 1) * ov == t.total_frames(fps) == round(t.total * fps)
    slack = 1.0 + abs(ov - t.overlap * fps)
    assert all(abs(c - d * fps) <= slack + 1e-6 for c, d in zip(counts, ds, strict=True))
    for i, frames in enumerate(counts):
        assert all(0 < c < frames for c in t.cut_frames(i, fps))


@settings(max_examples=200, deadline=None)
@given(st.floats(0.1, 100), st.floats(0, 200), st.floats(0, 2), st.floats(1, 3))
def test_fit_narration_never_cuts_and_respects_the_cap(scene: float, length: float,
                                                       loss: float, cap: float) -> None:
    fit = fit_narration(scene, length, loss, cap)
    assert 1.0 <= fit.speed <= cap + 1e-12
    assert fit.duration >= scene
    assert math.isclose(fit.extended_by, fit.duration - scene, abs_tol=1e-9)
    if length > 0:
        # the (sped-up) narration fits the window it is given
        assert length / fit.speed <= fit.duration - loss + 1e-9
    if length <= scene - loss:
        assert fit.speed == 1.0 and fit.duration == scene
    if fit.extended_by > 0:
        assert fit.speed == cap
