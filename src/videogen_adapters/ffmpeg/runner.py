"""Running ffmpeg: failures become RenderFailed, outputs appear atomically, cancel kills.

::

    runner = FfmpegRunner()                     # locates imageio-ffmpeg's binary
    with atomic_output(final) as tmp:           # tmp is renamed to final on success
        runner.run(commands.xxx(runner.ffmpeg, ..., tmp), stage="mux", cancel=token)

A non-zero exit raises :class:`~videogen_core.errors.RenderFailed` carrying the
command and the tail of ffmpeg's stderr; a fired :class:`CancelToken` kills the
process and raises :class:`~videogen_core.errors.Cancelled`. Either way
``atomic_output`` removes the partial file.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO

from videogen_core.errors import Cancelled, RenderFailed, VideogenError
from videogen_core.progress import CancelToken

__all__ = ["FfmpegRunner", "atomic_output", "find_ffmpeg"]

STDERR_TAIL = 4000


def find_ffmpeg() -> str:
    """Path of the ffmpeg binary that imageio-ffmpeg ships (``IMAGEIO_FFMPEG_EXE`` overrides)."""
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise RenderFailed("ffmpeg", "imageio-ffmpeg is not installed") from exc
    try:
        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError as exc:
        raise RenderFailed("ffmpeg", f"no ffmpeg binary found: {exc}") from exc


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``path``; on success rename it onto ``path``
    (``os.replace``), on any error delete it so no partial file is left behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.part{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


class FfmpegRunner:
    """Runs ffmpeg argv lists and translates their failures into domain errors."""

    def __init__(self, ffmpeg: str | None = None, *, nice: int = 0) -> None:
        self.ffmpeg = ffmpeg or find_ffmpeg()
        #: added to the CPU niceness of every ffmpeg it starts (POSIX): work that
        #: may wait for idle cores (the audio mix beside the video encode)
        self.nice = nice
        #: the environment of the ffmpeg processes (None: this process's); the muxer
        #: sets one naming the bundled fonts (``FONTCONFIG_FILE``) to burn captions in
        self.env: dict[str, str] | None = None

    def run(
        self,
        argv: Sequence[str],
        *,
        stage: str,
        cancel: CancelToken | None = None,
        feed: Callable[[IO[bytes]], None] | None = None,
    ) -> str:
        """Run ``argv``; return ffmpeg's stderr text.

        ``feed`` (optional) is called with the process's stdin and writes the
        input (raw frames); stdin is closed afterwards. Raises RenderFailed on a
        non-zero exit (or when ``feed`` fails), Cancelled when ``cancel`` fires.
        """
        if cancel is not None:
            cancel.raise_if_cancelled()
        try:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.PIPE if feed else subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env=self.env,
                # its own session: a signal to our process group (Ctrl+C, a worker's
                # SIGTERM) reaches us, not ffmpeg; we then stop ffmpeg ourselves and
                # report the interruption, instead of a half-dead encode failing the job
                start_new_session=True,
            )
        except OSError as exc:
            raise RenderFailed(stage, f"cannot start ffmpeg: {exc}", command=list(argv)) from exc
        if self.nice:
            _renice(proc.pid, self.nice)
        if feed is not None and proc.stdin is not None:
            _widen_pipe(proc.stdin)
        chunks: list[bytes] = []
        reader = threading.Thread(target=_drain, args=(proc.stderr, chunks), daemon=True)
        reader.start()
        killed = threading.Event()

        def stop() -> None:
            with contextlib.suppress(OSError):
                proc.kill()

        def kill() -> None:  # on cancellation
            killed.set()
            stop()

        if cancel is not None:
            cancel.on_cancel(kill)
        feed_error: BaseException | None = None
        try:
            if feed is not None and proc.stdin is not None:
                try:
                    feed(proc.stdin)
                except (BrokenPipeError, ConnectionResetError, ValueError):
                    pass  # ffmpeg stopped reading: its exit code and stderr tell why
                except BaseException as exc:  # noqa: BLE001 - re-raised below
                    feed_error = exc
                    stop()
                finally:
                    with contextlib.suppress(OSError, ValueError):
                        proc.stdin.close()
            proc.wait()
        except BaseException:
            stop()
            proc.wait()
            raise
        finally:
            reader.join()
        stderr = b"".join(chunks).decode("utf-8", "replace")
        if isinstance(feed_error, Cancelled) or killed.is_set() or (
            cancel is not None and cancel.cancelled
        ):
            raise Cancelled()
        if feed_error is not None:
            if not isinstance(feed_error, Exception):
                # SystemExit (a worker's SIGTERM), KeyboardInterrupt: the process is
                # stopping, not the encode failing — ffmpeg is stopped, pass it on
                raise feed_error
            if isinstance(feed_error, VideogenError):
                raise feed_error  # already a domain error (e.g. InvalidImage)
            raise RenderFailed(stage, f"feeding ffmpeg failed: {feed_error}",
                               stderr_tail=stderr[-STDERR_TAIL:]) from feed_error
        if proc.returncode != 0:
            tail = stderr[-STDERR_TAIL:].strip()
            last = tail.splitlines()[-1] if tail else "no output"
            how = (f"was killed by signal {signal.Signals(-proc.returncode).name} "
                   f"({signal.strsignal(-proc.returncode)})"
                   if proc.returncode < 0 and -proc.returncode in signal.valid_signals()
                   else f"exited with code {proc.returncode}")
            raise RenderFailed(stage, f"ffmpeg {how}: {last}",
                               stderr_tail=tail, command=list(argv),
                               returncode=proc.returncode)
        return stderr


#: Linux's F_SETPIPE_SZ; a raw frame (~0.9 MB at 1024x576) then fits the pipe whole
_F_SETPIPE_SZ = 1031
PIPE_BYTES = 1 << 20


def _renice(pid: int, increment: int) -> None:
    """Lower a just-started process's CPU priority (POSIX; elsewhere nothing)."""
    try:
        current = os.getpriority(os.PRIO_PROCESS, pid)
        os.setpriority(os.PRIO_PROCESS, pid, min(19, current + increment))
    except (AttributeError, OSError):
        pass  # no setpriority here, or the process already ended


def _widen_pipe(stream: IO[bytes]) -> None:
    """Grow the pipe to ffmpeg to 1 MiB where the OS allows (Linux): a frame goes
    through in one write instead of sixteen 64 KiB wake-ups of both processes."""
    try:
        import fcntl

        fcntl.fcntl(stream.fileno(), _F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, OSError, ValueError):
        pass  # other systems, or a lower pipe-max-size: the default pipe works


def _drain(stream: IO[bytes] | None, chunks: list[bytes]) -> None:
    if stream is None:
        return
    for chunk in iter(lambda: stream.read(65536), b""):
        chunks.append(chunk)
        # keep memory bounded on chatty runs
        if len(chunks) > 64:
            joined = b"".join(chunks)[-(STDERR_TAIL * 16):]
            chunks.clear()
            chunks.append(joined)
    stream.close()
