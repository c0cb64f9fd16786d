"""Chunk boundaries (``Timeline.chunk_bounds``): they tile the video and never cut a transition."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from videogen_core.errors import InvalidRequest
from videogen_core.timeline import Timeline


@st.composite
def timelines(draw: st.DrawFn) -> tuple[Timeline, int]:
    n = draw(st.integers(1, 12))
    kind = draw(st.sampled_from(["none", "fade", "crossfade"]))
    x = draw(st.sampled_from([0.0, 0.2, 0.5, 1.0, 1.3]))
    fps = draw(st.sampled_from([12, 24, 25, 30]))
    durations = draw(st.lists(st.floats(0.3, 8.0), min_size=n, max_size=n))
    if kind == "fade" and any(((i > 0) + (i < n - 1)) * x / 2 >= d
                              for i, d in enumerate(durations)):
        kind = "none"  # a fade that does not fit its scenes: refused by the request checks
    try:
        return Timeline.build(durations, kind, x), fps
    except InvalidRequest:  # a crossfade longer than a scene: not a valid timeline
        return Timeline.build(durations, "none", 0.0), fps


def _transition_spans(t: Timeline, fps: int) -> list[tuple[int, int]]:
    """Frame ranges a boundary may not fall strictly inside: each crossfade overlap,
    each half of a fade through black."""
    starts = t.scene_starts_frames(fps)
    spans = []
    if t.transition == "crossfade":
        ov = t.overlap_frames(fps)
        spans += [(s, s + ov) for s in starts[1:]]
    if t.transition == "fade":
        f = t.fade_frames(fps)
        spans += [(s - f, s) for s in starts[1:]] + [(s, s + f) for s in starts[1:]]
    return spans


@settings(max_examples=500, deadline=None)
@given(timelines())
def test_chunks_tile_the_video_and_never_cut_inside_a_transition(case: tuple[Timeline, int]
                                                                 ) -> None:
    t, fps = case
    bounds = t.chunk_bounds(fps)
    assert bounds[0][0] == 0
    assert bounds[-1][1] == t.total_frames(fps) == round(t.total * fps)
    for (a, b), (c, _) in itertools.pairwise(bounds):
        assert a < b == c
    cuts = [a for a, _ in bounds[1:]]
    for lo, hi in _transition_spans(t, fps):
        assert not any(lo < c < hi for c in cuts), (lo, hi, cuts)
    starts = t.scene_starts_frames(fps)
    if t.transition != "crossfade" or t.overlap_frames(fps) == 0:
        # hard cuts and fades: one chunk per scene, each starting where its scene does
        assert [a for a, _ in bounds] == list(starts)


def test_crossfade_overlaps_are_chunks_of_their_own() -> None:
    t = Timeline.build([2, 3, 1.5], "crossfade", 0.5)
    assert t.chunk_bounds(24) == ((0, 36), (36, 48), (48, 96), (96, 108), (108, 132))
    assert Timeline.build([2.0]).chunk_bounds(24) == ((0, 48),)
