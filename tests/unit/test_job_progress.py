"""Job progress counts scenes as scenes and frames as frames (issue 13.1).

A streamed Ken Burns render reports its encode in frames; the job record used
to take those frames for scenes (``scenes_done: 173`` of 2). Now the pipeline
says how many whole scenes are encoded, :class:`JobProgress` keeps
``scenes_done <= scenes_total``, and frames get their own fields — in the
in-process runner and in the Celery worker's reporter alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.unit.test_pipeline_stream import (
    FOLDER,
    StreamingFakeRenderer,
    StreamMuxer,
    fake_images,
    pipeline,
    sequence,
)

from videogen_adapters.executors.celery import JobTaskRunner
from videogen_adapters.fakes import FakeClipRenderer, FakeMuxer
from videogen_adapters.jobs import InMemoryJobStore
from videogen_core import Cancelled, CancelToken, JobProgress, JobRecord, ProgressEvent
from videogen_jobs.runner import JobRunner


def streamed_events(tmp_path: Path) -> list[ProgressEvent]:
    p = pipeline(tmp_path, StreamingFakeRenderer(), StreamMuxer(), images=fake_images())
    events: list[ProgressEvent] = []
    p.run(FOLDER, sequence(), progress=events.append)
    return events


def test_a_streamed_render_reports_scenes_and_frames_apart(tmp_path: Path) -> None:
    events = streamed_events(tmp_path)
    render = [e for e in events if e.stage == "render"]
    assert len(render) > 3
    frames_total = render[-1].frames_total
    assert frames_total is not None and frames_total > 3  # frames, not scenes
    scenes = [e.scenes_done for e in render]
    assert all(s is not None and 0 <= s <= 3 for s in scenes), scenes
    assert scenes == sorted(scenes) and scenes[-1] == 3
    assert 0 in scenes or 1 in scenes  # not all done at once: scenes complete as frames go
    assert [e.frames_done for e in render] == sorted(e.frames_done or 0 for e in render)


def test_a_clip_file_render_counts_scenes(tmp_path: Path) -> None:
    p = pipeline(tmp_path, FakeClipRenderer(), FakeMuxer(), images=fake_images(),
                 stream_clips=False)
    events: list[ProgressEvent] = []
    p.run(FOLDER, sequence(), progress=events.append)
    render = [e for e in events if e.stage == "render" and e.done]
    assert [e.scenes_done for e in render] == [1, 2, 3]
    assert all(e.frames_total is None for e in render)


def test_job_progress_never_takes_frames_for_scenes() -> None:
    progress = JobProgress(scenes_total=2)
    changes = progress.fold(ProgressEvent("render", 173, 504, percent=40.0, frames_done=173,
                                          frames_total=504, scenes_done=0))
    assert changes is not None
    assert (changes["scenes_done"], changes["frames_done"], changes["frames_total"]) == (
        0, 173, 504)
    # a bare frame count (no scenes_done) moves no scene; an over-count is capped
    changes = progress.fold(ProgressEvent("render", 300, 504, percent=50.0))
    assert changes is not None and changes["scenes_done"] == 0
    changes = progress.fold(ProgressEvent("render", 504, 504, percent=66.0, scenes_done=9,
                                          frames_done=504, frames_total=504))
    assert changes is not None and changes["scenes_done"] == 2
    assert progress.fold(ProgressEvent("render", 504, 504, percent=66.0, scenes_done=2,
                                       frames_done=504, frames_total=504)) is None


def replay(events: list[ProgressEvent], cancel_at: int | None = None) -> Any:
    """Job work replaying ``events`` (and raising Cancelled at index ``cancel_at``)."""

    def work(job: JobRecord, progress: Any, cancel: CancelToken) -> Any:
        for i, event in enumerate(events):
            if i == cancel_at:
                raise Cancelled()
            progress(event)
        return {"success": True}, []

    return work


def test_runner_and_worker_store_scenes_within_the_total(tmp_path: Path) -> None:
    events = streamed_events(tmp_path)
    mid = next(i for i, e in enumerate(events)
               if e.stage == "render" and (e.frames_done or 0) > (e.frames_total or 0) // 2)
    for cancel_at in (mid, None):
        # in-process runner
        store = InMemoryJobStore()
        seen: list[tuple[int, int, int]] = []
        runner = JobRunner(store, replay(events, cancel_at), max_jobs=1)
        job, _ = runner.create("f", {"n": cancel_at}, scenes_total=3)
        final = runner.wait(job.id, timeout=10)
        runner.shutdown()
        assert final.status == ("cancelled" if cancel_at else "succeeded")
        assert 0 <= final.scenes_done <= 3
        if cancel_at:
            assert final.frames_done > 3 and final.frames_done <= final.frames_total
            assert final.scenes_done < 3
        # the Celery worker's reporter stores the same
        store2 = InMemoryJobStore()
        job2 = store2.create(JobRecord(id="j", folder_id="f", request={}, scenes_total=3))
        original = store2.update

        def spy(job_id: str, original: Any = original, seen: Any = seen,
                **changes: Any) -> JobRecord:
            record = original(job_id, **changes)
            seen.append((record.scenes_done, record.frames_done, record.frames_total))
            return record

        store2.update = spy  # type: ignore[method-assign]
        status = JobTaskRunner(store2, replay(events, cancel_at)).run(job2.id)
        assert status == ("cancelled" if cancel_at else "succeeded")
        assert seen and all(0 <= s <= 3 for s, _, _ in seen), seen
        assert max(f for _, f, _ in seen) > 3  # frames were recorded as frames


def test_cli_bars_show_the_scenes_the_job_api_shows(tmp_path: Path) -> None:
    from videogen_cli.main import _RichProgress

    events = streamed_events(tmp_path)
    bars = _RichProgress(True, scenes=3)
    with bars:
        api = JobProgress(3)
        for event in events:
            bars(event)
            api.fold(event)
            if event.stage == "render":
                label = bars.label(event)
                assert label == f"Render {api.scenes_done}/3 scenes (frames)", label
    render_task = bars.tasks["render"]
    task = next(t for t in bars.progress.tasks if t.id == render_task)
    assert task.total == api.frames_total and task.completed == api.frames_done
