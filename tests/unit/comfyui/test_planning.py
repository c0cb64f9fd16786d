"""Prompt text, motion strength, seed derivation and segment planning."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from videogen_adapters.comfyui.planning import (
    build_prompt,
    motion_factor,
    motion_value,
    plan_segments,
    segment_seed,
)


def test_prompt_from_movements_description_and_narration():
    text = build_prompt("Slow zoom-out and pan right, misty forest", "Dawn breaks.\n Birds sing.")
    assert text == ("the camera pulls back slowly, the camera pans right. misty forest. "
                    "Dawn breaks. Birds sing.")


def test_prompt_without_movements_or_narration():
    assert build_prompt("a red barn at dusk") == "a red barn at dusk."
    assert build_prompt("") == ""
    assert build_prompt("static") == "static camera, almost no motion."
    assert build_prompt("quick tilt up") == "the camera tilts up quickly."


def test_prompt_is_capped():
    assert len(build_prompt("zoom in", "word " * 500)) <= 600


def test_motion_follows_speed_words():
    assert motion_factor("") == 1.0
    assert motion_factor("slow zoom in") == 0.5
    assert motion_factor("quick pan left") == 2.0
    assert motion_factor("static") == 0.25
    assert motion_factor("slow zoom in, fast pan right") == 1.0
    assert motion_value("slow zoom in", 127, 1, 1023) == 64
    assert motion_value("quick pan left", 127, 1, 1023) == 254
    assert motion_value("quick pan left", 800, 1, 1023) == 1023
    assert motion_value("gentle pan up", 0.8, 0.0, 1.0, integer=False) == 0.6000000000000001


def test_seeds_are_stable_distinct_and_32_bit():
    assert segment_seed(42, 1, 0) == segment_seed(42, 1, 0) == 2472881345
    seeds = {segment_seed(42, n, k) for n in range(1, 20) for k in range(5)}
    assert len(seeds) == 95
    assert segment_seed(43, 1, 0) != segment_seed(42, 1, 0)
    assert all(0 <= s < 2**32 for s in seeds)


def test_one_segment_when_it_fits():
    [segment] = plan_segments(48, 144)
    assert (segment.index, segment.frames, segment.keep) == (0, 48, 48)


def test_long_scene_is_chained():
    segments = plan_segments(240, 144)
    assert [(s.frames, s.keep) for s in segments] == [(121, 121), (120, 120)]


def test_frame_step_rounds_up_and_trims():
    segments = plan_segments(300, 121, frame_step=8)
    assert all((s.frames - 1) % 8 == 0 and s.frames <= 121 for s in segments)
    assert [s.keep for s in segments] == [101, 101, 100]


@given(total=st.integers(1, 5000), capacity=st.integers(2, 300),
       step=st.sampled_from([1, 4, 8]))
def test_segments_cover_the_scene_exactly(total, capacity, step):
    if step > 1:  # capacities of stepped models are valid counts themselves
        capacity = max(1 + step, 1 + (capacity - 1) // step * step)
    segments = plan_segments(total, capacity, frame_step=step)
    joined = segments[0].keep + sum(s.keep - 1 for s in segments[1:])
    assert joined == total
    for s in segments:
        assert s.keep <= s.frames <= capacity
        assert s.frames == 1 or (s.frames - 1) % step == 0
        if len(segments) > 1:
            assert s.keep >= 2
    assert [s.index for s in segments] == list(range(len(segments)))
    # no more segments than needed
    assert len(segments) == 1 or total > capacity + (len(segments) - 2) * (capacity - 1)


@given(st.text(max_size=300), st.text(max_size=300))
def test_prompt_and_motion_never_fail(clip_action, narration):
    text = build_prompt(clip_action, narration)
    assert len(text) <= 600 and "\n" not in text
    assert 0.25 <= motion_factor(clip_action) <= 2.0
    assert 1 <= motion_value(clip_action, 127, 1, 1023) <= 1023
