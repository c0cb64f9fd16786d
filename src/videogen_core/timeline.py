"""Where every scene and every narration sits in time.

With a transition of length X between n scenes:

* ``crossfade``: scene i+1 starts X seconds before scene i ends; the total is
  ``sum(durations) − (n−1)·X``.
* ``fade`` (through black): no overlap; scene i fades out over its last X/2
  seconds and scene i+1 fades in over its first X/2, so a viewer sees one
  transition of X seconds, as with crossfade, but the total is
  ``sum(durations)`` (the timeline never shortens behind the narration's back).
* ``none``: hard cuts, total ``sum(durations)``.

Narration of scene i starts ``lead_in`` seconds after the scene is fully on
screen (after its incoming crossfade) and must end ``gap`` seconds before the
next scene's narration starts; :func:`fit_narration` decides what happens when
it is longer than that window.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable

import attrs

from .errors import InvalidRequest

__all__ = ["NarrationFit", "Timeline", "fit_narration"]


@attrs.frozen
class Timeline:
    """Scene start times, transition overlap and narration starts of one video."""

    durations: tuple[float, ...]
    transition: str = "none"
    transition_duration: float = 0.0
    lead_in: float = 0.25
    gap: float = 0.2

    @classmethod
    def build(
        cls,
        durations: Iterable[float],
        transition: str = "none",
        transition_duration: float = 0.5,
        *,
        lead_in: float = 0.25,
        gap: float = 0.2,
    ) -> Timeline:
        """Build and check a timeline; raise InvalidRequest when a crossfade cannot fit."""
        ds = tuple(float(d) for d in durations)
        if not ds:
            raise InvalidRequest("sequence_data", "must hold at least one scene")
        for i, d in enumerate(ds):
            if not math.isfinite(d) or d <= 0:
                raise InvalidRequest(f"sequence_data[{i}].duration", "must be > 0", d)
        if transition not in ("none", "fade", "crossfade"):
            raise InvalidRequest("generation_params.transition_type", "unknown transition",
                                 transition)
        x = 0.0 if transition == "none" or len(ds) == 1 else float(transition_duration)
        if transition == "crossfade":
            for i, d in enumerate(ds):
                neighbours = (i > 0) + (i < len(ds) - 1)
                if neighbours * x >= d:
                    raise InvalidRequest(f"sequence_data[{i}].duration",
                                         f"too short for crossfades of {x:g} s", d)
        return cls(ds, transition, x, lead_in, gap)

    @property
    def overlap(self) -> float:
        """Seconds by which consecutive scenes overlap (only crossfade overlaps)."""
        return self.transition_duration if self.transition == "crossfade" else 0.0

    @property
    def starts(self) -> tuple[float, ...]:
        """Start time of every scene, strictly increasing."""
        out, t = [], 0.0
        for d in self.durations:
            out.append(t)
            t += d - self.overlap
        return tuple(out)

    @property
    def ends(self) -> tuple[float, ...]:
        """End time of every scene (its start plus its duration)."""
        return tuple(s + d for s, d in zip(self.starts, self.durations, strict=True))

    @property
    def total(self) -> float:
        """Length of the whole video: ``sum − (n−1)·overlap``."""
        return math.fsum(self.durations) - (len(self.durations) - 1) * self.overlap

    @property
    def narration_starts(self) -> tuple[float, ...]:
        """Where each scene's narration begins: after the incoming crossfade plus the lead-in."""
        return tuple(
            s + (self.overlap if i else 0.0) + self.lead_in for i, s in enumerate(self.starts)
        )

    def narration_window(self, index: int) -> float:
        """Seconds available to scene ``index``'s narration without running into the next."""
        return self.durations[index] - self.narration_loss(index)

    def narration_loss(self, index: int) -> float:
        """Part of scene ``index``'s duration that narration cannot use."""
        incoming = self.overlap if index else 0.0
        # the next narration starts after the next scene's incoming overlap, so
        # this narration may run into our outgoing overlap
        return incoming + self.lead_in + self.gap

    def with_durations(self, durations: Iterable[float]) -> Timeline:
        """The same transition with other scene durations (checked again)."""
        return Timeline.build(durations, self.transition, self.transition_duration,
                              lead_in=self.lead_in, gap=self.gap)

    def frame_counts(self, fps: int) -> tuple[int, ...]:
        """Frames of every clip, rounded along the timeline so that rounding never
        drifts: the video has exactly ``round(total·fps)`` frames, every overlap is
        ``overlap_frames`` long, and each clip is within one frame of ``duration·fps``
        (plus up to half a frame more when ``overlap·fps`` is not a whole number, e.g.
        0.5 s at 25 fps, since the overlap itself is rounded)."""
        ov = self.overlap_frames(fps)
        n = len(self.durations)
        frames, edge = [], 0
        for i in range(n):
            # exact prefix sums, not a running float: no accumulated error, and after
            # the last clip the very same expression as ``total`` (a tie at x.5 frames
            # cannot round one way here and the other way in round(total·fps))
            elapsed = math.fsum(self.durations[: i + 1]) - min(i + 1, n - 1) * self.overlap
            nxt = round(elapsed * fps)
            frames.append(max(1, nxt - edge + (ov if i < n - 1 else 0)))
            edge = nxt
        return tuple(frames)

    def overlap_frames(self, fps: int) -> int:
        """Frames shared by two consecutive clips (crossfade only)."""
        return round(self.overlap * fps)

    def fade_frames(self, fps: int) -> int:
        """Frames of each half of a fade through black (fade out, then fade in)."""
        return round(self.transition_duration / 2 * fps) if self.transition == "fade" else 0

    def total_frames(self, fps: int) -> int:
        """Frames of the whole video."""
        return sum(self.frame_counts(fps)) - (len(self.durations) - 1) * self.overlap_frames(fps)

    def cut_frames(self, index: int, fps: int) -> tuple[int, ...]:
        """Frame indices where the muxer cuts clip ``index`` into head / body / tail:
        the head is the incoming transition, the tail the outgoing one. Renderers
        start a closed GOP at each, so the body is joined by stream copy."""
        n = len(self.durations)
        frames = self.frame_counts(fps)[index]
        edge = self.overlap_frames(fps) if self.transition == "crossfade" else self.fade_frames(fps)
        if edge <= 0 or n == 1:
            return ()
        cuts = []
        if index > 0:
            cuts.append(edge)
        if index < n - 1:
            cuts.append(frames - edge)
        return tuple(sorted({c for c in cuts if 0 < c < frames}))

    def scene_starts_frames(self, fps: int) -> tuple[int, ...]:
        """The output frame at which every scene's first frame sits."""
        ov = self.overlap_frames(fps)
        out, at = [], 0
        for count in self.frame_counts(fps):
            out.append(at)
            at += count - ov
        return tuple(out)

    def chunk_bounds(self, fps: int) -> tuple[tuple[int, int], ...]:
        """``[start, end)`` output frame ranges cutting the video into chunks that
        are encoded apart and joined by stream copy; they tile ``total_frames``.

        A chunk boundary is never inside a transition:

        * ``none``: a chunk per scene (cuts are hard cuts already);
        * ``fade``: a chunk per scene, cut at the middle of the fade through black
          (the frames before it belong to the outgoing scene alone, the frames after
          to the incoming one — a hard cut between two fading halves);
        * ``crossfade``: a chunk per scene body and a chunk per overlap. An overlap's
          frames blend two scenes, so it is cut at neither end's inside; keeping it
          apart means an edited scene re-encodes its own body and its two short
          overlaps, not a neighbour's body too.
        """
        total = self.total_frames(fps)
        starts = self.scene_starts_frames(fps)
        ov = self.overlap_frames(fps) if self.transition == "crossfade" else 0
        cuts = set()
        for start in starts[1:]:
            cuts.add(start)
            if ov:
                cuts.add(start + ov)
        edges = [0, *sorted(c for c in cuts if 0 < c < total), total]
        return tuple((a, b) for a, b in itertools.pairwise(edges) if b > a)


@attrs.frozen
class NarrationFit:
    """How a narration was made to fit: ``speed`` (≥ 1) and the scene's new ``duration``."""

    speed: float
    duration: float
    extended_by: float = 0.0

    @property
    def changed(self) -> bool:
        """True when the narration was sped up or the scene extended."""
        return self.speed > 1.0 or self.extended_by > 0.0


def fit_narration(
    scene_duration: float, narration_length: float, loss: float, max_speed: float = 1.25
) -> NarrationFit:
    """Make a narration of ``narration_length`` s fit a scene of ``scene_duration`` s.

    ``loss`` is the part of the scene narration cannot use (lead-in, gap,
    incoming overlap). Narration is never cut: first speed it up
    (pitch-preserved, by the narrator) up to ``max_speed``; if still too long,
    extend the scene by what is missing.
    """
    window = scene_duration - loss
    if narration_length <= 0 or narration_length <= window:
        return NarrationFit(1.0, scene_duration)
    if window > 0 and narration_length / window <= max_speed:
        return NarrationFit(narration_length / window, scene_duration)
    spoken = narration_length / max_speed
    new_duration = spoken + loss
    return NarrationFit(max_speed, new_duration, new_duration - scene_duration)
