"""Running ffmpeg: errors with stderr tail, atomic outputs, cancellation."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from videogen_adapters.ffmpeg.runner import FfmpegRunner, atomic_output
from videogen_core.errors import Cancelled, InvalidImage, RenderFailed
from videogen_core.progress import CancelToken


@pytest.fixture(scope="module")
def runner() -> FfmpegRunner:
    return FfmpegRunner()


def test_failure_raises_render_failed_with_stderr_tail(runner, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    with pytest.raises(RenderFailed) as info, atomic_output(out) as tmp:
        runner.run([runner.ffmpeg, "-hide_banner", "-i", str(tmp_path / "missing.mov"),
                    str(tmp)], stage="render")
    error = info.value
    assert error.stage == "render"
    assert "missing.mov" in error.details["stderr_tail"]
    assert error.details["returncode"] != 0
    assert list(tmp_path.iterdir()) == []  # no partial output


def test_partial_output_is_removed(runner, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    with pytest.raises(RenderFailed), atomic_output(out) as tmp:
        # writes a valid start of a file, then fails on the bogus filter option
        runner.run([runner.ffmpeg, "-f", "lavfi", "-i", "testsrc=size=64x36:duration=1",
                    "-vf", "scale=w=notanumber", str(tmp)], stage="x")
    assert list(tmp_path.iterdir()) == []


def test_success_replaces_atomically(runner, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    out.write_bytes(b"old")
    with atomic_output(out) as tmp:
        assert tmp.parent == out.parent and tmp != out
        runner.run([runner.ffmpeg, "-v", "error", "-f", "lavfi", "-i",
                    "testsrc=size=64x36:duration=0.2", "-f", "mp4", str(tmp)], stage="x")
        assert out.read_bytes() == b"old"  # untouched until the very end
    assert out.stat().st_size > 100
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]


def test_cancel_kills_a_running_ffmpeg(runner, tmp_path: Path) -> None:
    token = CancelToken()
    threading.Timer(0.3, token.cancel).start()
    started = time.monotonic()
    with pytest.raises(Cancelled), atomic_output(tmp_path / "o.mp4") as tmp:
        runner.run([runner.ffmpeg, "-v", "error", "-re", "-f", "lavfi", "-i",
                    "testsrc=size=64x36:duration=60", "-f", "mp4", str(tmp)], stage="x",
                   cancel=token)
    assert time.monotonic() - started < 30  # killed, not run to its 60 s end
    assert list(tmp_path.iterdir()) == []


def _children() -> list[tuple[int, str, int, int]]:
    """``(pid, comm, pgrp, session)`` of this process's children, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        ppid, pgrp, session = int(fields[1]), int(fields[2]), int(fields[3])
        if ppid == os.getpid():
            found.append((int(entry.name), comm, pgrp, session))
    return found


@contextlib.contextmanager
def running_ffmpeg(runner: FfmpegRunner) -> Iterator[tuple[int, str, int, int]]:
    """A 60 s real-time ffmpeg run by ``runner`` on a thread: yields its /proc entry
    ``(pid, comm, pgrp, session)``, then cancels it and checks it ended Cancelled."""
    token = CancelToken()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            runner.run([runner.ffmpeg, "-v", "error", "-re", "-f", "lavfi", "-i",
                        "testsrc=size=64x36:duration=60", "-f", "null", "-"], stage="x",
                       cancel=token)
        except BaseException as exc:  # noqa: BLE001 - inspected below
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        children: list[tuple[int, str, int, int]] = []
        for _ in range(200):
            children = [c for c in _children() if "ffmpeg" in c[1]]
            if children:
                break
            time.sleep(0.05)
        assert children, "ffmpeg did not start"
        yield children[0]
    finally:
        token.cancel()
        thread.join(30)
    assert len(errors) == 1 and isinstance(errors[0], Cancelled)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_ffmpeg_runs_in_its_own_session(runner) -> None:
    """A signal to our process group (Ctrl+C, a worker's SIGTERM) must reach Python,
    which stops ffmpeg and reports the interruption, not ffmpeg behind its back."""
    with running_ffmpeg(runner) as (pid, _, pgrp, session):
        assert pgrp != os.getpgrp()
        assert session == pid  # setsid: a session and group of its own


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_nice_lowers_the_priority_of_what_it_starts() -> None:
    with running_ffmpeg(FfmpegRunner(nice=7)) as (pid, *_):
        # setpriority follows Popen at once; the child may be seen a moment before
        deadline = time.monotonic() + 10
        expected = min(19, os.getpriority(os.PRIO_PROCESS, 0) + 7)
        while os.getpriority(os.PRIO_PROCESS, pid) != expected and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        assert os.getpriority(os.PRIO_PROCESS, pid) == expected


def test_already_cancelled_never_starts(runner) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        runner.run([runner.ffmpeg, "-version"], stage="x", cancel=token)


def test_feed_errors(runner, tmp_path: Path) -> None:
    argv = [runner.ffmpeg, "-v", "error", "-f", "rawvideo", "-s", "4x4", "-pix_fmt", "gray",
            "-i", "pipe:0", "-f", "null", "-"]

    def domain(stdin) -> None:
        raise InvalidImage("x.png", "broken")

    with pytest.raises(InvalidImage):
        runner.run(argv, stage="x", feed=domain)

    def foreign(stdin) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RenderFailed, match="boom"):
        runner.run(argv, stage="x", feed=foreign)

    def good(stdin) -> None:
        stdin.write(bytes(16 * 3))

    runner.run(argv, stage="x", feed=good)


@pytest.mark.parametrize("stopping", [SystemExit(-15), KeyboardInterrupt()],
                         ids=["SystemExit", "KeyboardInterrupt"])
def test_a_stopping_process_is_not_an_encode_failure(runner, stopping: BaseException) -> None:
    """A worker's SIGTERM (billiard raises SystemExit) or Ctrl+C while frames are fed
    must reach the caller as itself — the job is requeued, not failed."""
    argv = [runner.ffmpeg, "-v", "error", "-f", "rawvideo", "-s", "4x4", "-pix_fmt", "gray",
            "-i", "pipe:0", "-f", "null", "-"]

    def interrupted(stdin) -> None:
        stdin.write(bytes(16))
        raise stopping

    with pytest.raises(type(stopping)) as info:
        runner.run(argv, stage="x", feed=interrupted)
    assert info.value is stopping


def test_missing_binary_is_render_failed(tmp_path: Path) -> None:
    with pytest.raises(RenderFailed, match="cannot start"):
        missing = FfmpegRunner(str(tmp_path / "no-ffmpeg"))
        missing.run([missing.ffmpeg, "-version"], stage="x")
