"""Timeline: starts, totals, narration placement, fitting policy, frame counts, cuts."""

from __future__ import annotations

import random

import pytest

from videogen_core import InvalidRequest, NarrationFit, Timeline, fit_narration


def approx(values: tuple[float, ...] | list[float]) -> object:
    return pytest.approx(list(values), abs=1e-9)


# ------------------------------------------------------------------ starts
def test_crossfade_starts_ends_total() -> None:
    t = Timeline.build([5, 4, 6], "crossfade", 0.5)
    assert t.overlap == 0.5
    assert list(t.starts) == approx([0.0, 4.5, 8.0])
    assert list(t.ends) == approx([5.0, 8.5, 14.0])
    assert t.total == pytest.approx(15 - 2 * 0.5)
    # scene i+1 starts X seconds before scene i ends
    for end, nxt in zip(t.ends, t.starts[1:], strict=False):
        assert end - nxt == pytest.approx(0.5)


@pytest.mark.parametrize("transition", ["none", "fade"])
def test_none_and_fade_do_not_overlap(transition: str) -> None:
    t = Timeline.build([5, 4, 6], transition, 0.5)
    assert t.overlap == 0.0
    assert list(t.starts) == approx([0.0, 5.0, 9.0])
    assert t.total == pytest.approx(15.0)
    assert t.ends[-1] == pytest.approx(t.total)


def test_none_ignores_transition_length() -> None:
    t = Timeline.build([2, 2], "none", 0.5)
    assert t.transition_duration == 0.0
    assert t.fade_frames(24) == 0


def test_fade_keeps_its_length_for_half_fades() -> None:
    t = Timeline.build([2, 2], "fade", 0.5)
    assert t.transition_duration == 0.5
    assert t.fade_frames(24) == 6  # each half of 0.5 s at 24 fps
    assert t.overlap_frames(24) == 0


def test_single_scene_has_no_transition() -> None:
    for transition in ("none", "fade", "crossfade"):
        t = Timeline.build([0.3], transition, 0.5)
        assert t.total == pytest.approx(0.3)
        assert t.starts == (0.0,)
        assert t.cut_frames(0, 24) == ()
        assert t.transition_duration == 0.0 and t.fade_frames(24) == 0


@pytest.mark.parametrize(("n", "x"), [(2, 0.5), (10, 0.25), (60, 1.0)])
def test_total_formula(n: int, x: float) -> None:
    durations = [2.1 + (i % 7) * 0.37 for i in range(n)]
    cross = Timeline.build(durations, "crossfade", x)
    assert cross.total == pytest.approx(sum(durations) - (n - 1) * x)
    assert Timeline.build(durations, "fade", x).total == pytest.approx(sum(durations))
    assert Timeline.build(durations, "none", x).total == pytest.approx(sum(durations))


# ------------------------------------------------------------------ checks
def test_build_rejects_no_scenes_and_bad_durations() -> None:
    with pytest.raises(InvalidRequest) as info:
        Timeline.build([])
    assert info.value.field == "sequence_data"
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(InvalidRequest) as info:
            Timeline.build([5.0, bad])
        assert info.value.field == "sequence_data[1].duration"


def test_build_rejects_unknown_transition() -> None:
    with pytest.raises(InvalidRequest) as info:
        Timeline.build([5.0], "wipe")
    assert info.value.field == "generation_params.transition_type"
    assert info.value.value == "wipe"


def test_build_rejects_crossfade_that_cannot_fit() -> None:
    with pytest.raises(InvalidRequest) as info:
        Timeline.build([5, 1.0, 5], "crossfade", 0.5)
    assert info.value.field == "sequence_data[1].duration"
    with pytest.raises(InvalidRequest) as info:
        Timeline.build([0.5, 5], "crossfade", 0.5)
    assert info.value.field == "sequence_data[0].duration"
    Timeline.build([0.51, 1.01, 0.51], "crossfade", 0.5)


# --------------------------------------------------------------- narration
def test_narration_starts_after_incoming_crossfade_plus_lead_in() -> None:
    t = Timeline.build([5, 5, 5], "crossfade", 0.5, lead_in=0.25, gap=0.2)
    assert list(t.narration_starts) == approx([0.25, 4.5 + 0.5 + 0.25, 9.0 + 0.5 + 0.25])
    assert t.narration_window(0) == pytest.approx(5 - 0.25 - 0.2)
    assert t.narration_window(1) == pytest.approx(5 - 0.5 - 0.25 - 0.2)
    assert t.narration_loss(2) == pytest.approx(0.5 + 0.25 + 0.2)


def test_narration_never_overlaps_the_next_one() -> None:
    t = Timeline.build([3, 4, 2.5, 6], "crossfade", 0.5, lead_in=0.3, gap=0.2)
    for i in range(len(t.durations) - 1):
        end_of_narration = t.narration_starts[i] + t.narration_window(i)
        assert end_of_narration + 0.2 <= t.narration_starts[i + 1] + 1e-9


@pytest.mark.parametrize("transition", ["none", "fade"])
def test_narration_starts_without_overlap(transition: str) -> None:
    t = Timeline.build([4, 6], transition, 0.5, lead_in=0.1)
    assert list(t.narration_starts) == approx([0.1, 4.1])
    assert t.narration_window(1) == pytest.approx(6 - 0.1 - 0.2)


def test_with_durations_keeps_transition_and_checks_again() -> None:
    t = Timeline.build([5, 5], "crossfade", 0.5, lead_in=0.4, gap=0.1)
    longer = t.with_durations([5, 7.5])
    assert (longer.transition, longer.transition_duration, longer.lead_in, longer.gap) == (
        "crossfade", 0.5, 0.4, 0.1)
    assert longer.total == pytest.approx(12.0)
    with pytest.raises(InvalidRequest):
        t.with_durations([5, 0.2])


# ---------------------------------------------------------- fit_narration
def test_fit_narration_fits() -> None:
    fit = fit_narration(5.0, 4.0, loss=0.45)
    assert fit == NarrationFit(1.0, 5.0)
    assert not fit.changed
    exactly = fit_narration(5.0, 4.55, loss=0.45)
    assert exactly.speed == 1.0 and not exactly.changed


@pytest.mark.parametrize("length", [0.0, -1.0])
def test_fit_narration_silence(length: float) -> None:
    assert fit_narration(1.0, length, loss=0.45) == NarrationFit(1.0, 1.0)


def test_fit_narration_sped_up_up_to_the_cap() -> None:
    fit = fit_narration(5.0, 5.0, loss=1.0, max_speed=1.25)  # window 4 s
    assert fit.speed == pytest.approx(1.25)
    assert fit.duration == 5.0 and fit.extended_by == 0.0
    assert fit.changed
    milder = fit_narration(5.0, 4.4, loss=1.0, max_speed=1.25)
    assert milder.speed == pytest.approx(1.1)
    assert milder.duration == 5.0


def test_fit_narration_extends_beyond_the_cap() -> None:
    fit = fit_narration(5.0, 10.0, loss=1.0, max_speed=1.25)
    assert fit.speed == 1.25
    assert fit.duration == pytest.approx(10.0 / 1.25 + 1.0)
    assert fit.extended_by == pytest.approx(fit.duration - 5.0)
    # the sped-up narration fills the new window exactly: nothing is cut
    assert (fit.duration - 1.0) * fit.speed == pytest.approx(10.0)
    assert fit.changed


def test_fit_narration_window_gone() -> None:
    # the loss eats the whole scene: cannot speed up into nothing, so extend
    fit = fit_narration(0.5, 2.0, loss=0.6, max_speed=1.5)
    assert fit.speed == 1.5
    assert fit.duration == pytest.approx(2.0 / 1.5 + 0.6)


def test_fit_narration_with_no_speedup_allowed() -> None:
    fit = fit_narration(3.0, 4.0, loss=0.5, max_speed=1.0)
    assert fit.speed == 1.0
    assert fit.duration == pytest.approx(4.5)
    assert fit.extended_by == pytest.approx(1.5)


# ------------------------------------------------------------ frame counts
def test_frame_counts_simple() -> None:
    assert Timeline.build([5, 5, 5], "none").frame_counts(24) == (120, 120, 120)
    assert Timeline.build([5, 5, 5], "crossfade", 0.5).frame_counts(24) == (120, 120, 120)
    t = Timeline.build([5, 5, 5], "crossfade", 0.5)
    assert t.overlap_frames(24) == 12
    assert t.total_frames(24) == 336 == round(t.total * 24)


def test_frame_counts_do_not_drift_with_awkward_durations() -> None:
    durations = [1 / 3, 0.7, 2 / 3, 1.05, 1 / 7, 0.99] * 10  # 60 scenes
    for fps in (24, 25, 30):
        t = Timeline.build(durations, "none")
        counts = t.frame_counts(fps)
        assert sum(counts) == round(t.total * fps)
        if fps == 24:  # clips rounded one by one would be two frames short here
            assert sum(round(d * fps) for d in durations) == round(t.total * fps) - 2
        assert all(abs(c - d * fps) < 1 + 1e-9 for c, d in zip(counts, durations, strict=True))


@pytest.mark.parametrize("fps", [24, 25, 30, 60])
@pytest.mark.parametrize("transition", ["none", "fade", "crossfade"])
def test_frame_counts_total_matches_timeline_for_many_scenes(fps: int, transition: str) -> None:
    rng = random.Random(fps)
    durations = [1.01 + rng.choice([1 / 3, 2 / 3, 0.7, 1.05, 2.0625]) + rng.random() * 5
                 for _ in range(55)]
    t = Timeline.build(durations, transition, 0.5)
    counts = t.frame_counts(fps)
    ov = t.overlap_frames(fps)
    assert t.total_frames(fps) == sum(counts) - (len(counts) - 1) * ov
    assert t.total_frames(fps) == round(t.total * fps)
    for c, d in zip(counts, durations, strict=True):
        # within one frame when the overlap is a whole number of frames,
        # otherwise within the extra half frame the overlap was rounded by
        slack = 1.0 + abs(ov - t.overlap * fps)
        assert abs(c - d * fps) <= slack + 1e-9


def test_frame_counts_tie_does_not_depend_on_float_noise() -> None:
    # 1/3 + 0.7 + 2/3 − 2·0.1 = 1.5 s = 37.5 frames at 25 fps: the sum of the
    # clips must agree with round(total·fps) however the floats fall
    t = Timeline.build([1 / 3, 0.7, 2 / 3], "crossfade", 0.1)
    assert t.total_frames(25) == round(t.total * 25)


def test_every_clip_has_at_least_one_frame() -> None:
    t = Timeline.build([0.01, 0.01, 5], "none")
    assert all(c >= 1 for c in t.frame_counts(24))


# ------------------------------------------------------------- cut frames
def test_cut_frames_crossfade() -> None:
    t = Timeline.build([5, 5, 5], "crossfade", 0.5)
    assert t.cut_frames(0, 24) == (108,)
    assert t.cut_frames(1, 24) == (12, 108)
    assert t.cut_frames(2, 24) == (12,)


def test_cut_frames_fade_uses_half_the_transition() -> None:
    t = Timeline.build([5, 5, 5], "fade", 0.5)
    assert t.cut_frames(0, 24) == (114,)
    assert t.cut_frames(1, 24) == (6, 114)
    assert t.cut_frames(2, 24) == (6,)


def test_cut_frames_none_and_zero_length() -> None:
    t = Timeline.build([5, 5], "none", 0.5)
    assert t.cut_frames(0, 24) == t.cut_frames(1, 24) == ()
    zero = Timeline.build([5, 5], "crossfade", 0.0)
    assert zero.cut_frames(0, 24) == ()


def test_cut_frames_within_the_clip() -> None:
    t = Timeline.build([1.2, 1.1, 3.7, 2.05], "crossfade", 0.5)
    for fps in (24, 25, 30):
        counts = t.frame_counts(fps)
        for i, frames in enumerate(counts):
            cuts = t.cut_frames(i, fps)
            assert list(cuts) == sorted(set(cuts))
            assert all(0 < c < frames for c in cuts)
            assert len(cuts) == (i > 0) + (i < len(counts) - 1)
