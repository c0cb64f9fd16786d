"""Shipped fakes: fast, deterministic adapters that fit the ports.

They write small JSON "media" files describing what a real adapter would have
produced, so the pipeline, the HTTP service and the CLI can be exercised in
milliseconds. They pass the same contract expectations as the real adapters
where those make sense (exact frame counts, durations, cues, unknown voices).
Each takes an optional ``fail`` exception to raise on demand.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from videogen_core import (
    CancelToken,
    ClipRequest,
    MusicBed,
    MuxPlan,
    MuxResult,
    Narration,
    RenderedClip,
    UnknownVoice,
    spread_cues,
)
from videogen_core.motion import parse_clip_action

__all__ = ["FakeClipRenderer", "FakeMusicSource", "FakeMuxer", "FakeNarrator", "read_fake"]

#: Seconds of fake speech per character of narration (about 15 characters a second).
SECONDS_PER_CHAR = 1 / 15


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(payload, sort_keys=True, default=str), encoding="utf-8")
    tmp.replace(path)


def read_fake(path: Path) -> dict[str, Any]:
    """What a fake wrote into ``path``."""
    result: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return result


class FakeClipRenderer:
    """Writes a JSON description of the clip instead of video; counts calls."""

    name = "fake"

    def __init__(self, fail: Exception | None = None, fail_on_scene: int | None = None) -> None:
        self.fail = fail
        self.fail_on_scene = fail_on_scene
        self.calls: list[ClipRequest] = []
        self._lock = threading.Lock()

    def render(self, request: ClipRequest, output_path: Path, *, progress: Any = None,
               cancel: CancelToken | None = None) -> RenderedClip:
        """Describe the clip in ``output_path``; raise ``fail`` when asked to."""
        with self._lock:
            self.calls.append(request)
        if cancel is not None:
            cancel.raise_if_cancelled()
        if self.fail is not None and self.fail_on_scene in (None, request.scene_number):
            raise self.fail
        if not Path(request.image_path).exists():
            raise FileNotFoundError(request.image_path)
        action = parse_clip_action(request.clip_action)
        _write_json(output_path, {
            "kind": "clip", "scene_number": request.scene_number, "frames": request.frames,
            "duration": request.duration, "seed": request.seed,
            "movements": [str(m) for m in action.movements],
            "image": Path(request.image_path).name, "cut_frames": list(request.cut_frames),
            "width": request.settings.width, "height": request.settings.height,
            "fps": request.settings.fps,
        })
        if progress is not None:
            progress(1.0)
        return RenderedClip(output_path, request.frames, request.frames / request.settings.fps)


class FakeNarrator:
    """Speaks nothing: a JSON file whose duration is proportional to the text."""

    name = "fake"

    def __init__(self, voices: tuple[str, ...] = ("fake",), fail: Exception | None = None,
                 seconds_per_char: float = SECONDS_PER_CHAR) -> None:
        self._voices = voices
        self.fail = fail
        self.seconds_per_char = seconds_per_char
        self.calls: list[tuple[str, str | None, float]] = []

    def voices(self) -> list[str]:
        """The configured voice names."""
        return list(self._voices)

    def synthesize(self, text: str, output_path: Path, *, voice: str | None = None,
                   speed: float = 1.0, seed: int | None = None,
                   cancel: CancelToken | None = None) -> Narration:
        """A fake narration of ``len(text)·seconds_per_char / speed`` seconds."""
        self.calls.append((text, voice, speed))
        if cancel is not None:
            cancel.raise_if_cancelled()
        if voice is not None and voice not in self._voices:
            raise UnknownVoice(voice, self._voices, field="generation_params.voice")
        if self.fail is not None:
            raise self.fail
        spoken = " ".join(text.split())
        if not spoken:
            return Narration(None, 0.0, provider=self.name)
        duration = round(len(spoken) * self.seconds_per_char / speed, 3)
        _write_json(output_path, {"kind": "narration", "text": spoken, "duration": duration})
        return Narration(output_path, duration, 22050, spread_cues(spoken, duration),
                         voice or self._voices[0], self.name)


class FakeMusicSource:
    """Music beds as JSON files; unknown moods map to ``calm`` with a warning."""

    name = "fake"
    MOODS = ("calm", "epic", "happy", "sad", "tense")

    def __init__(self, fail: Exception | None = None) -> None:
        self.fail = fail
        self.calls: list[tuple[str, float, int]] = []

    def moods(self) -> list[str]:
        """Known moods."""
        return list(self.MOODS)

    def compose(self, mood: str, duration: float, output_path: Path, *, seed: int,
                cancel: CancelToken | None = None) -> MusicBed:
        """A bed description for ``mood``."""
        self.calls.append((mood, duration, seed))
        if cancel is not None:
            cancel.raise_if_cancelled()
        if self.fail is not None:
            raise self.fail
        used = mood if mood in self.MOODS else "calm"
        warnings = () if used == mood or not mood else (f"unknown mood {mood!r}, using {used!r}",)
        _write_json(output_path, {"kind": "music", "mood": used, "duration": duration,
                                  "seed": seed})
        return MusicBed(output_path, duration, used, warnings)


class FakeMuxer:
    """Writes the mux plan as JSON; the "video" lasts exactly the timeline total."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.fail = fail
        self.plans: list[MuxPlan] = []

    def mux(self, plan: MuxPlan, output_path: Path, *, executor: Any = None,
            progress: Any = None, cancel: CancelToken | None = None) -> MuxResult:
        """Record ``plan`` and write its description to ``output_path``."""
        self.plans.append(plan)
        if cancel is not None:
            cancel.raise_if_cancelled()
        if self.fail is not None:
            raise self.fail
        clips = [read_fake(p) for p in plan.clips]
        fps = plan.video.fps
        _write_json(output_path, {
            "kind": "video", "duration": plan.timeline.total,
            "frames": plan.timeline.total_frames(fps),
            "scenes": [c["scene_number"] for c in clips],
            "transition": plan.timeline.transition,
            "narrations": [[str(n.path), n.start] for n in plan.narrations],
            "music": [[m.mood, m.start, m.end] for m in plan.music],
            "cues": [[c.start, c.end, c.text] for c in plan.cues],
        })
        if progress is not None:
            progress(1.0)
        return MuxResult(output_path, plan.timeline.total, plan.timeline.total_frames(fps),
                         plan.audio.loudness_lufs, plan.audio.true_peak_db)
